"""Onboarding members (buyers and sub-merchants) through the SDK."""

from datetime import datetime

from craftgate.model.member_type import MemberType
from craftgate.model.status import Status
from craftgate.request.create_member_request import CreateMemberRequest
from craftgate.request.search_members_request import SearchMembersRequest
from craftgate.request.update_member_request import UpdateMemberRequest

import orkestra_harness as h
import sdk_helpers as s


def new_member(client, name=None, external_id=None, **kw):
    request = CreateMemberRequest(
        member_external_id=external_id or h.uid("ext"),
        name=name or "Haluk Demir",
        email=kw.pop("email", "haluk.demir@example.com"),
        phone_number=kw.pop("phone_number", "905551111111"),
        address=kw.pop("address", "Suadiye Mah. Örnek Cad. No:23 Kadıköy/İstanbul"),
        contact_name=kw.pop("contact_name", "Haluk"),
        contact_surname=kw.pop("contact_surname", "Demir"),
        member_type=kw.pop("member_type", MemberType.PERSONAL),
        is_buyer=kw.pop("is_buyer", True),
        is_sub_merchant=kw.pop("is_sub_merchant", False),
        **kw,
    )
    return client.onboarding().create_member(request)


def test_create_and_retrieve_member(client):
    external_id = h.uid("ext")
    created = new_member(client, name="Zeytinyağı Üretim A.Ş.", external_id=external_id)
    assert h.last_status() == 200
    assert created.id > 0
    assert created.member_external_id == external_id
    assert created.name == "Zeytinyağı Üretim A.Ş."
    assert created.email == "haluk.demir@example.com"
    assert created.phone_number == "905551111111"
    assert created.address == "Suadiye Mah. Örnek Cad. No:23 Kadıköy/İstanbul"
    assert created.contact_name == "Haluk" and created.contact_surname == "Demir"
    assert s.enum_value(created.member_type) == "PERSONAL"
    assert s.enum_value(created.status) == Status.ACTIVE.value
    assert created.is_buyer is True and created.is_sub_merchant is False
    assert isinstance(created.created_date, datetime)

    fetched = client.onboarding().retrieve_member(created.id)
    for field in ("id", "member_external_id", "name", "email", "phone_number", "address",
                  "contact_name", "contact_surname", "is_buyer", "is_sub_merchant"):
        assert getattr(fetched, field) == getattr(created, field), field
    assert fetched.created_date == created.created_date


def test_create_sub_merchant_company(client):
    created = new_member(
        client,
        name="Örnek Ticaret Ltd.",
        member_type=MemberType.LIMITED_OR_JOINT_STOCK_COMPANY,
        is_buyer=False,
        is_sub_merchant=True,
        legal_company_title="Örnek Ticaret Limited Şirketi",
        tax_office="Kadıköy",
        tax_number="1111111114",
        iban="TR930006701000000001111111",
    )
    assert s.enum_value(created.member_type) == "LIMITED_OR_JOINT_STOCK_COMPANY"
    assert created.is_sub_merchant is True and created.is_buyer is False
    assert created.legal_company_title == "Örnek Ticaret Limited Şirketi"
    assert created.tax_number == "1111111114"
    assert created.iban == "TR930006701000000001111111"


def test_update_member(client):
    created = new_member(client)
    updated = client.onboarding().update_member(
        created.id,
        UpdateMemberRequest(
            name="Haluk Demir Updated",
            email="haluk.updated@example.com",
            address="Yeni Adres 5",
            is_buyer=True,
            is_sub_merchant=True,
            member_type=MemberType.PRIVATE_COMPANY,
        ),
    )
    assert updated.id == created.id
    assert updated.name == "Haluk Demir Updated"
    assert updated.email == "haluk.updated@example.com"
    assert updated.address == "Yeni Adres 5"
    assert updated.is_sub_merchant is True
    assert s.enum_value(updated.member_type) == "PRIVATE_COMPANY"
    fetched = client.onboarding().retrieve_member(created.id)
    assert fetched.name == "Haluk Demir Updated"
    assert fetched.email == "haluk.updated@example.com"
    assert fetched.address == "Yeni Adres 5"
    # Fields the update did not name keep their values.
    assert fetched.phone_number == "905551111111"
    assert fetched.member_external_id == created.member_external_id
    assert fetched.contact_name == "Haluk"


def test_search_members_filters_and_paging(client):
    tag = h.uid("Srch").replace("-", "")
    made = [new_member(client, name=f"{tag} Member {i}") for i in range(3)]
    seller = new_member(client, name=f"{tag} Seller", is_buyer=False, is_sub_merchant=True)
    ids = {m.id for m in made} | {seller.id}

    everyone = client.onboarding().search_members(SearchMembersRequest(name=tag, size=10))
    assert everyone.total_size == 4
    assert {m.id for m in everyone.items} == ids
    assert everyone.page == 0 and everyone.size == 10

    # Paging: two pages of 3 + 1, no overlap, newest first.
    first = client.onboarding().search_members(SearchMembersRequest(name=tag, page=0, size=3))
    second = client.onboarding().search_members(SearchMembersRequest(name=tag, page=1, size=3))
    assert len(first.items) == 3 and len(second.items) == 1
    assert first.total_size == second.total_size == 4
    assert {m.id for m in first.items} | {m.id for m in second.items} == ids
    assert not ({m.id for m in first.items} & {m.id for m in second.items})
    page_ids = [m.id for m in first.items] + [m.id for m in second.items]
    assert page_ids == sorted(page_ids, reverse=True)

    by_external = client.onboarding().search_members(
        SearchMembersRequest(member_external_id=made[1].member_external_id)
    )
    assert [m.id for m in by_external.items] == [made[1].id]

    by_ids = client.onboarding().search_members(
        SearchMembersRequest(member_ids={made[0].id, made[2].id})
    )
    assert {m.id for m in by_ids.items} == {made[0].id, made[2].id}

    sellers = client.onboarding().search_members(
        SearchMembersRequest(name=tag, is_sub_merchant=True)
    )
    assert [m.id for m in sellers.items] == [seller.id]
    buyers = client.onboarding().search_members(SearchMembersRequest(name=tag, is_buyer=True))
    assert {m.id for m in buyers.items} == {m.id for m in made}

    nobody = client.onboarding().search_members(SearchMembersRequest(name=tag + "-nope"))
    assert nobody.total_size == 0 and nobody.items == []


def test_duplicate_member_external_id_is_400(client):
    external_id = h.uid("dup")
    new_member(client, external_id=external_id)
    e = s.expect_error(lambda: new_member(client, external_id=external_id), status=400)
    assert "memberExternalId" in e.error_description


def test_member_without_role_or_name_is_400(client, raw):
    h.errors_of(raw.post("/onboarding/v1/members", {"name": "No Role", "isBuyer": False}), 400)
    h.errors_of(raw.post("/onboarding/v1/members", {"isBuyer": True}), 400)
    h.errors_of(
        raw.post("/onboarding/v1/members", {"name": "X", "isBuyer": True, "memberType": "ALIEN"}), 400
    )


def test_unknown_member_is_404(client, raw):
    s.expect_error(lambda: client.onboarding().retrieve_member(987654321), status=404)
    s.expect_error(
        lambda: client.onboarding().update_member(987654321, UpdateMemberRequest(name="x")),
        status=404,
    )
    # A non-numeric id is simply not found.
    h.errors_of(raw.get("/onboarding/v1/members/abc"), 404)


def test_search_name_is_a_case_insensitive_contains(client):
    """The name filter matches part of the name, ignoring case, on every database."""
    tag = h.uid("Case").replace("-", "")
    member = new_member(client, name=f"{tag} Zeytinyağı Üretim")
    for query in (tag, tag.lower(), tag.upper(), "Zeytinyağı Üretim", f"{tag} zeytinyağı"):
        found = client.onboarding().search_members(SearchMembersRequest(name=query, size=100))
        assert member.id in {m.id for m in found.items}, f"name={query!r} did not find {member.name!r}"


def test_search_name_wildcards_are_literal(client):
    """`%` and `_` in a name filter are characters, not SQL LIKE wildcards."""
    tag = h.uid("Wild").replace("-", "")
    plain = new_member(client, name=f"{tag} AB")
    percent = new_member(client, name=f"{tag} 50% off")
    underscore = new_member(client, name=f"{tag} A_B")
    found = client.onboarding().search_members(SearchMembersRequest(name=f"{tag} A_B", size=100))
    assert [m.id for m in found.items] == [underscore.id], [m.name for m in found.items]
    found = client.onboarding().search_members(SearchMembersRequest(name=f"{tag} %", size=100))
    assert found.items == [], [m.name for m in found.items]
    found = client.onboarding().search_members(SearchMembersRequest(name="50%", size=100))
    assert percent.id in {m.id for m in found.items}
    assert plain.id not in {m.id for m in found.items}
