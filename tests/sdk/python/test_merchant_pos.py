"""Merchant POS management through the SDK, with POSes pointing at the NestPay simulator."""

from decimal import Decimal

from craftgate.model.currency import Currency
from craftgate.model.pos_status import PosStatus
from craftgate.model.status import Status
from craftgate.request.delete_merchant_pos_request import DeleteMerchantPosRequest
from craftgate.request.dto.update_merchant_pos_commission import UpdateMerchantPosCommission
from craftgate.request.dto.update_merchant_pos_user import UpdateMerchantPosUser
from craftgate.request.search_merchant_pos_request import SearchMerchantPosRequest
from craftgate.request.update_merchant_pos_commissions_request import (
    UpdateMerchantPosCommissionsRequest,
)
from craftgate.request.update_merchant_pos_request import UpdateMerchantPosRequest
from craftgate.request.update_merchant_pos_status_request import UpdateMerchantPosStatusRequest

import orkestra_harness as h
import sdk_helpers as s


def assert_no_secrets(text: str, pos: h.SimPos) -> None:
    assert pos.password not in text, "POS password leaked"
    assert pos.store_key not in text, "3DS store key leaked"


def test_create_pos_pointing_at_simulator(client, make_sim_pos, server):
    pos = make_sim_pos()
    r = pos.response
    assert r.id > 0 and r.alias
    assert s.enum_value(r.status) == "ACTIVE"
    assert s.enum_value(r.pos_integrator) == "ZIRAATBANK"
    assert r.client_id == pos.client_id
    assert r.hostname == server.base_url
    assert r.path == "/sim/nestpay/fim/api"
    assert r.threeds_path == "/sim/nestpay/fim/est3Dgate"
    assert s.enum_value(r.currency) == "TRY"
    assert r.enable_installment is True
    assert r.bank_id == 10 and "Ziraat" in r.bank_name
    assert len(r.merchant_pos_users) == 1
    user = r.merchant_pos_users[0]
    assert user.pos_username.startswith("API")
    assert user.pos_password != pos.password
    # The POS really works: a payment through it reaches its simulator store.
    payment = client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.pos.alias == pos.alias


def test_ziraat_preloaded_store_pos(client, sim, server):
    """The brief's recipe verbatim: ZIRAATBANK on the preloaded store 190100000."""
    from conftest import create_sim_pos

    pos = create_sim_pos(
        client, sim, server.base_url, client_id="190100000", pos_username="ZIRAATAPI",
        pos_password="ZIRAAT19", threeds_key="123456", register_store=False,
    )
    payment = client.payment().create_payment(s.payment_request(pos_alias=pos.alias, price="12.34"))
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    order = sim.order("190100000", payment.order_id)
    assert order is not None and order["amountMinor"] == 1234


def test_retrieve_masks_credentials(client, raw, make_sim_pos):
    pos = make_sim_pos()
    fetched = client.merchant().retrieve(pos.id)
    assert fetched.id == pos.id and fetched.alias == pos.alias and fetched.name == pos.name
    assert fetched.client_id == pos.client_id
    body = raw.get(f"/merchant/v1/merchant-poses/{pos.id}")
    data = h.data_of(body)
    assert_no_secrets(body.text, pos)
    assert "threedsKey" not in data or data["threedsKey"] in (None, "", "******")
    for user in data["merchantPosUsers"]:
        assert user.get("posPassword") in (None, "", "******")
    # Search and create answers are masked as well.
    assert_no_secrets(raw.get(f"/merchant/v1/merchant-poses?alias={pos.alias}").text, pos)
    assert_no_secrets(repr(pos.response.__dict__), pos)


def test_update_pos(client, raw, make_sim_pos):
    pos = make_sim_pos()
    new_name = "Renamed " + h.uid("pos")
    updated = client.merchant().update_merchant_pos(
        pos.id,
        UpdateMerchantPosRequest(
            name=new_name,
            enable_installment=False,
            enable_foreign_card=True,
            order_number=77,
            merchant_pos_users=[
                UpdateMerchantPosUser(
                    id=pos.response.merchant_pos_users[0].id,
                    pos_username=pos.response.merchant_pos_users[0].pos_username,
                    pos_password=pos.password,
                )
            ],
        ),
    )
    assert updated.name == new_name
    assert updated.enable_installment is False
    assert updated.enable_foreign_card is True
    assert updated.order_number == 77
    assert updated.client_id == pos.client_id
    assert updated.alias == pos.alias
    fetched = client.merchant().retrieve(pos.id)
    assert fetched.name == new_name and fetched.enable_installment is False
    assert_no_secrets(raw.get(f"/merchant/v1/merchant-poses/{pos.id}").text, pos)
    # Installments are now refused on this POS; a single payment still works.
    s.expect_error(
        lambda: client.payment().create_payment(s.payment_request(pos_alias=pos.alias, installment=3)),
        status=400,
    )
    ok = client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
    assert s.enum_value(ok.payment_status) == "SUCCESS"


def test_update_pos_password_is_used_for_the_bank(client, sim, make_sim_pos):
    pos = make_sim_pos()
    user = pos.response.merchant_pos_users[0]
    # The bank changes the password; until the POS is updated, payments are refused.
    new_password = "New" + h.uid("pw").replace("-", "")
    sim.add_store(pos.client_id, user.pos_username, new_password, pos.store_key)
    s.expect_error(lambda: client.payment().create_payment(s.payment_request(pos_alias=pos.alias)))
    client.merchant().update_merchant_pos(
        pos.id,
        UpdateMerchantPosRequest(
            merchant_pos_users=[
                UpdateMerchantPosUser(id=user.id, pos_username=user.pos_username, pos_password=new_password)
            ]
        ),
    )
    ok = client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
    assert s.enum_value(ok.payment_status) == "SUCCESS"


def test_search_pos(client, make_sim_pos):
    tag = h.uid("Search")
    a = make_sim_pos(name=f"{tag} A")
    b = make_sim_pos(name=f"{tag} B", enable_installment=False)
    by_name = client.merchant().search_merchant_pos(SearchMerchantPosRequest(name=tag))
    assert {p.id for p in by_name.items} == {a.id, b.id}
    assert by_name.total_size == 2
    by_alias = client.merchant().search_merchant_pos(SearchMerchantPosRequest(alias=a.alias))
    assert [p.id for p in by_alias.items] == [a.id]
    with_installment = client.merchant().search_merchant_pos(
        SearchMerchantPosRequest(name=tag, enable_installment=True)
    )
    assert [p.id for p in with_installment.items] == [a.id]
    try_poses = client.merchant().search_merchant_pos(
        SearchMerchantPosRequest(currency=Currency.TRY, size=100)
    )
    assert {a.id, b.id} <= {p.id for p in try_poses.items}
    usd = client.merchant().search_merchant_pos(SearchMerchantPosRequest(currency=Currency.USD))
    assert usd.total_size == 0
    page0 = client.merchant().search_merchant_pos(SearchMerchantPosRequest(name=tag, page=0, size=1))
    page1 = client.merchant().search_merchant_pos(SearchMerchantPosRequest(name=tag, page=1, size=1))
    assert len(page0.items) == 1 and len(page1.items) == 1
    assert {page0.items[0].id, page1.items[0].id} == {a.id, b.id}


def test_pos_status_change(client, make_sim_pos):
    pos = make_sim_pos()
    client.merchant().update_merchant_pos_status(
        UpdateMerchantPosStatusRequest(merchant_pos_id=pos.id, pos_status=PosStatus.PASSIVE)
    )
    assert h.last_status() in (200, 204)
    assert s.enum_value(client.merchant().retrieve(pos.id).status) == "PASSIVE"
    s.expect_error(
        lambda: client.payment().create_payment(s.payment_request(pos_alias=pos.alias)), status=400
    )
    client.merchant().update_merchant_pos_status(
        UpdateMerchantPosStatusRequest(merchant_pos_id=pos.id, pos_status=PosStatus.ACTIVE)
    )
    assert s.enum_value(client.merchant().retrieve(pos.id).status) == "ACTIVE"
    ok = client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
    assert s.enum_value(ok.payment_status) == "SUCCESS"


def test_pos_status_cannot_be_set_to_deleted_or_nonsense(raw, make_sim_pos):
    pos = make_sim_pos()
    h.errors_of(raw.put(f"/merchant/v1/merchant-poses/{pos.id}/status/DELETED"), 400)
    h.errors_of(raw.put(f"/merchant/v1/merchant-poses/{pos.id}/status/SLEEPY"), 400)


def test_commissions_get_and_update(client, make_sim_pos):
    pos = make_sim_pos()
    initial = client.merchant().retrieve_merchant_pos_commissions(pos.id)
    assert isinstance(initial.items, list)
    updated = client.merchant().update_merchant_pos_commissions(
        pos.id,
        UpdateMerchantPosCommissionsRequest(
            commissions=[
                UpdateMerchantPosCommission(
                    installment=1,
                    status=Status.ACTIVE,
                    blockage_day=7,
                    installment_label="Tek çekim",
                    bank_on_us_credit_card_commission_rate=Decimal("1.5"),
                    bank_not_on_us_credit_card_commission_rate=Decimal("1.75"),
                    bank_on_us_debit_card_commission_rate=Decimal("1.1"),
                    bank_not_on_us_debit_card_commission_rate=Decimal("1.2"),
                    bank_foreign_card_commission_rate=Decimal("2.5"),
                    merchant_commission_rate=Decimal("0"),
                ),
                UpdateMerchantPosCommission(
                    installment=3,
                    status=Status.ACTIVE,
                    blockage_day=30,
                    bank_on_us_credit_card_commission_rate=Decimal("3.25"),
                    bank_not_on_us_credit_card_commission_rate=Decimal("3.5"),
                    merchant_commission_rate=Decimal("2.1"),
                ),
            ]
        ),
    )
    by_installment = {c.installment: c for c in updated.items}
    assert set(by_installment) == {1, 3}
    assert Decimal(str(by_installment[1].bank_on_us_credit_card_commission_rate)) == Decimal("1.5")
    assert Decimal(str(by_installment[1].bank_foreign_card_commission_rate)) == Decimal("2.5")
    assert by_installment[1].blockage_day == 7
    assert by_installment[1].installment_label == "Tek çekim"
    assert Decimal(str(by_installment[3].merchant_commission_rate)) == Decimal("2.1")
    fetched = client.merchant().retrieve_merchant_pos_commissions(pos.id)
    fetched_by = {c.installment: c for c in fetched.items}
    assert set(fetched_by) == {1, 3}
    assert Decimal(str(fetched_by[3].bank_not_on_us_credit_card_commission_rate)) == Decimal("3.5")
    assert fetched_by[3].blockage_day == 30


def test_commissions_validation(raw, make_sim_pos):
    pos = make_sim_pos()
    path = f"/merchant/v1/merchant-poses/{pos.id}/commissions"
    h.errors_of(raw.post(path, {"commissions": [{"installment": 13}]}), 400)
    h.errors_of(
        raw.post(path, {"commissions": [{"installment": 1, "merchantCommissionRate": 101}]}), 400
    )
    h.errors_of(
        raw.post(path, {"commissions": [{"installment": 1, "bankOnUsCreditCardCommissionRate": -1}]}),
        400,
    )


def test_delete_pos(client, raw, make_sim_pos):
    pos = make_sim_pos()
    client.merchant().delete_merchant_pos(DeleteMerchantPosRequest(merchant_pos_id=pos.id))
    assert h.last_status() in (200, 204)
    s.expect_error(lambda: client.merchant().retrieve(pos.id), status=404)
    h.errors_of(raw.get(f"/merchant/v1/merchant-poses/{pos.id}"), 404)
    listed = client.merchant().search_merchant_pos(SearchMerchantPosRequest(alias=pos.alias))
    assert listed.total_size == 0
    s.expect_error(
        lambda: client.payment().create_payment(s.payment_request(pos_alias=pos.alias)), status=400
    )
    # Deleting again, or changing a deleted POS, is 404 too.
    s.expect_error(
        lambda: client.merchant().delete_merchant_pos(DeleteMerchantPosRequest(merchant_pos_id=pos.id)),
        status=404,
    )
    h.errors_of(raw.put(f"/merchant/v1/merchant-poses/{pos.id}", {"name": "zombie"}), 404)


def test_unknown_pos_is_404(client, raw):
    s.expect_error(lambda: client.merchant().retrieve(987654321), status=404)
    h.errors_of(raw.get("/merchant/v1/merchant-poses/987654321/commissions"), 404)


def test_unknown_pos_integrator_is_400(raw, server):
    body = {
        "status": "ACTIVE",
        "name": "Bogus " + h.uid("pos"),
        "clientId": "190100000",
        "currency": "TRY",
        "posIntegrator": "NOT_A_BANK",
        "hostname": server.base_url,
        "path": "/sim/nestpay/fim/api",
        "merchantPosUsers": [{"posUsername": "ZIRAATAPI", "posPassword": "ZIRAAT19",
                              "posUserType": "API", "posOperationType": "STANDARD"}],
    }
    errors = h.errors_of(raw.post("/merchant/v1/merchant-poses", body), 400)
    assert "posIntegrator" in errors["errorDescription"]
    # An unknown currency on a POS is refused as well.
    body["posIntegrator"] = "ZIRAATBANK"
    body["currency"] = "XXX"
    h.errors_of(raw.post("/merchant/v1/merchant-poses", body), 400)


def test_search_filters_apply_before_paging(client, make_sim_pos):
    """Filters must select the rows that are then paged: page 0 of a filtered search
    holds matches, and totalSize counts matches only."""
    tag = h.uid("Paged")
    with_installment = [make_sim_pos(name=f"{tag} {i}", enable_installment=True) for i in (1, 4)]
    without = [make_sim_pos(name=f"{tag} {i}", enable_installment=False) for i in (2, 3)]
    pages = [
        client.merchant().search_merchant_pos(
            SearchMerchantPosRequest(name=tag, enable_installment=False, page=i, size=1))
        for i in range(3)
    ]
    summary = [([p.name for p in page.items], page.total_size) for page in pages]
    assert all(page.total_size == 2 for page in pages), summary
    assert [len(page.items) for page in pages] == [1, 1, 0], summary
    assert {page.items[0].id for page in pages[:2]} == {p.id for p in without}, summary
    with_filter = client.merchant().search_merchant_pos(
        SearchMerchantPosRequest(name=tag, enable_installment=True, size=10))
    assert {p.id for p in with_filter.items} == {p.id for p in with_installment}
    assert with_filter.total_size == 2


def test_search_by_bank_name(client, make_sim_pos):
    """bankName finds the sandbox Halkbank POS even when other POSes sort before it."""
    for _ in range(2):
        make_sim_pos()  # newer POSes (listed first) at another bank
    halkbank = client.merchant().search_merchant_pos(SearchMerchantPosRequest(bank_name="Halkbank", size=1))
    assert [p.client_id for p in halkbank.items] == ["100200128"], (
        [p.name for p in halkbank.items], halkbank.total_size)
    assert halkbank.total_size == 1
