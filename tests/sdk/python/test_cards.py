"""The card vault through the SDK: store_card, search_stored_cards, update_card, clone_card,
delete_stored_card; payments with a stored card and storeCardAfterSuccessPayment; cards
belong to one merchant. Besides the harness's per-test watch for card numbers, this module
records every Orkestra response it receives and checks that none holds a number it used."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from craftgate.model.card_expiry_status import CardExpiryStatus
from craftgate.request.clone_card_request import CloneCardRequest
from craftgate.request.delete_stored_card_request import DeleteStoredCardRequest
from craftgate.request.dto.card import Card
from craftgate.request.search_stored_cards_request import SearchStoredCardsRequest
from craftgate.request.store_card_request import StoreCardRequest
from craftgate.request.update_card_request import UpdateCardRequest

import orkestra_harness as h
import sdk_helpers as s
from conftest import create_sim_pos

CARDS = {
    "yapikredi": s.SUCCESS_CARD,
    "garanti": s.BONUS_CARD,
    "halkbank": "4025260000000011",
    "ziraat": "4045910000000017",
    "isbank": "5101380000006661",  # declined at payment time (INVALID_TRANSACTION), storable
}
RESPONSES = []  # (method url status, body) of every Orkestra response in this module


@pytest.fixture(scope="module", autouse=True)
def no_card_number_in_any_response():
    original = requests.Session.send

    def send(self, request, **kwargs):
        response = original(self, request, **kwargs)
        url = request.url or ""
        if "/sim/" not in url:
            RESPONSES.append((f"{request.method} {url} {response.status_code}", response.content or b""))
        return response

    requests.Session.send = send
    try:
        yield
    finally:
        requests.Session.send = original
    assert len(RESPONSES) > 30, "the watch saw too little"
    leaks = []
    for where, body in RESPONSES:
        flat = re.sub(rb"[ \-]", b"", body)
        for number in CARDS.values():
            if number.encode() in flat:
                leaks.append(f"{where}: {number}")
    assert not leaks, "card numbers in Orkestra responses:\n" + "\n".join(leaks)


def store(client, number=s.SUCCESS_CARD, user_key=None, alias=None, month="07", year="2044", holder="Zeynep Kaya"):
    return client.payment().store_card(StoreCardRequest(
        card_holder_name=holder, card_number=number, expire_year=year, expire_month=month,
        card_alias=alias, card_user_key=user_key))


def stored_card(user_key, token, cvc=None):
    return Card(card_user_key=user_key, card_token=token, cvc=cvc)


def search(client, **filters):
    return client.payment().search_stored_cards(SearchStoredCardsRequest(**filters))


@pytest.fixture(scope="module")
def other_merchant(server, sim):
    """A third merchant (`orkestra merchant create`) with a POS of its own, so that a
    refusal of a card can only be about the card."""
    keys = server.create_merchant("Cards Other Merchant " + h.uid("m"))
    other = s.sdk_client(server.base_url, keys["apiKey"], keys["secretKey"])
    pos = create_sim_pos(other, sim, server.base_url)
    assert s.enum_value(other.payment().create_payment(s.payment_request(pos_alias=pos.alias)).payment_status) == "SUCCESS"
    return {"keys": keys, "client": other,
            "raw": h.RawClient(server.base_url, keys["apiKey"], keys["secretKey"]), "pos": pos}


def test_store_card(client):
    user_key = h.uid("user")
    card = store(client, user_key=user_key, alias="İş kartım")
    assert h.last_status() == 200
    assert card.card_user_key == user_key
    assert card.card_token and len(card.card_token) >= 20
    assert card.bin_number == s.SUCCESS_CARD[:6] and card.last_four_digits == s.SUCCESS_CARD[-4:]
    assert card.card_alias == "İş kartım"
    assert card.card_holder_name == "Zeynep Kaya"
    assert card.expire_month == "07" and card.expire_year == "2044"
    assert s.enum_value(card.card_type) == "CREDIT_CARD"
    assert s.enum_value(card.card_association) == "MASTER_CARD"
    assert card.card_bank_name == "Yapı Kredi" and card.card_bank_id == 67
    assert card.card_brand == "World"
    assert s.enum_value(card.card_expiry_status) == "NOT_EXPIRED"
    assert isinstance(card.created_at, datetime)

    # The same number for the same user is the same card; for another user, another card.
    again = store(client, user_key=user_key)
    assert again.card_token == card.card_token
    other_user = store(client, user_key=h.uid("user"))
    assert other_user.card_token != card.card_token

    # Without a user key, one is made.
    fresh = store(client, number=CARDS["garanti"])
    assert fresh.card_user_key and fresh.card_token


@pytest.mark.parametrize("overrides, code", [
    ({"card_number": "5258640000000002"}, "4010"),  # Luhn
    ({"card_number": None}, None),
    ({"expire_month": "13"}, None),
    ({"card_holder_name": None}, None),
])
def test_store_card_validation(client, overrides, code):
    fields = dict(card_holder_name="Zeynep Kaya", card_number=s.SUCCESS_CARD, expire_year="2044", expire_month="07",
                  card_user_key=h.uid("user"))
    fields.update(overrides)
    s.expect_error(lambda: client.payment().store_card(StoreCardRequest(**fields)), status=400, code=code)
    assert search(client, card_user_key=fields["card_user_key"]).total_size == 0


def test_search_stored_cards(client):
    user_key = h.uid("user")
    first = store(client, CARDS["garanti"], user_key, alias="bonus")
    second = store(client, CARDS["halkbank"], user_key, alias="paraf")
    third = store(client, CARDS["yapikredi"], user_key, alias="world")
    store(client, CARDS["yapikredi"], h.uid("user"), alias="someone else")

    found = search(client, card_user_key=user_key)
    assert found.total_size == 3
    assert {c.card_token for c in found.items} == {first.card_token, second.card_token, third.card_token}
    assert [c.card_token for c in search(client, card_user_key=user_key, card_alias="paraf").items] == [
        second.card_token]
    assert [c.card_token for c in search(client, card_token=third.card_token).items] == [third.card_token]
    by_bank = search(client, card_user_key=user_key, card_bank_name="Garanti BBVA")
    assert [c.card_token for c in by_bank.items] == [first.card_token]
    by_brand = search(client, card_user_key=user_key, card_brand="Paraf")
    assert [c.card_token for c in by_brand.items] == [second.card_token]
    page = search(client, card_user_key=user_key, page=0, size=2)
    assert len(page.items) == 2 and page.total_size == 3
    rest = search(client, card_user_key=user_key, page=1, size=2)
    assert len(rest.items) == 1
    assert {c.card_token for c in page.items + rest.items} == {first.card_token, second.card_token, third.card_token}


def test_search_by_expiry_status_pages_the_matching_cards(client):
    """cardExpiryStatus is a filter like the others: totalSize counts the matching cards
    and a page holds matching cards only."""
    user_key = h.uid("user")
    today = datetime.now(ZoneInfo("Europe/Istanbul"))
    next_month = (today.year + (today.month == 12), today.month % 12 + 1)
    soon = store(client, CARDS["garanti"], user_key, alias="soon",
                 month=f"{next_month[1]:02d}", year=str(next_month[0]))
    assert s.enum_value(soon.card_expiry_status) == "WILL_EXPIRE_NEXT_MONTH"
    store(client, CARDS["halkbank"], user_key, alias="later-1")
    store(client, CARDS["yapikredi"], user_key, alias="later-2")

    expiring = search(client, card_user_key=user_key, card_expiry_status=CardExpiryStatus.WILL_EXPIRE_NEXT_MONTH)
    assert [c.card_token for c in expiring.items] == [soon.card_token]
    assert expiring.total_size == 1, f"totalSize {expiring.total_size} counts cards the filter dropped"
    one = search(client, card_user_key=user_key, card_expiry_status=CardExpiryStatus.WILL_EXPIRE_NEXT_MONTH,
                 page=0, size=1)
    assert [c.card_token for c in one.items] == [soon.card_token], (
        f"page 0 of size 1 is {[c.card_alias for c in one.items]} (totalSize {one.total_size})")


def test_update_card(client):
    user_key = h.uid("user")
    card = store(client, user_key=user_key, alias="eski")
    updated = client.payment().update_card(UpdateCardRequest(
        card_user_key=user_key, card_token=card.card_token, expire_month="09", expire_year="2045", card_alias="yeni"))
    assert h.last_status() == 200
    assert updated.card_token == card.card_token
    assert updated.card_alias == "yeni"
    assert updated.expire_month == "09" and updated.expire_year == "2045"
    assert updated.last_four_digits == card.last_four_digits
    [fetched] = search(client, card_token=card.card_token).items
    assert fetched.card_alias == "yeni" and fetched.expire_year == "2045"
    # Alias only: the expiry stays.
    alias_only = client.payment().update_card(UpdateCardRequest(
        card_user_key=user_key, card_token=card.card_token, card_alias="son"))
    assert alias_only.card_alias == "son" and alias_only.expire_month == "09"
    s.expect_error(lambda: client.payment().update_card(UpdateCardRequest(
        card_user_key=user_key, card_token=card.card_token, expire_month="00", expire_year="2045")), status=400)
    s.expect_error(lambda: client.payment().update_card(UpdateCardRequest(
        card_user_key=h.uid("user"), card_token=card.card_token, card_alias="x")), status=404)


def test_pay_with_a_stored_card(client, sim, sandbox_poses, isbank_alias):
    user_key = h.uid("user")
    card = store(client, CARDS["garanti"], user_key)
    for cvc in (None, "000"):  # card on file, and with the CVC the shopper typed
        payment = client.payment().create_payment(s.payment_request(
            price="33.30", pos_alias=isbank_alias, the_card=stored_card(user_key, card.card_token, cvc)))
        assert h.last_status() == 200
        assert s.enum_value(payment.payment_status) == "SUCCESS"
        assert payment.paid_with_stored_card is True
        assert payment.card_user_key == user_key and payment.card_token == card.card_token
        assert payment.bin_number == CARDS["garanti"][:6] and payment.last_four_digits == CARDS["garanti"][-4:]
        assert payment.card_holder_name == "Zeynep Kaya"
        order = sim.order(next(cid for cid, p in sandbox_poses.items() if p.alias == isbank_alias), payment.order_id)
        assert order["pan"] == "4043 08** **** 0003"
        assert [t["amountMinor"] for t in order["transactions"] if t["approved"]] == [3330]
    fetched = client.payment().retrieve_payment(payment.id)
    assert fetched.paid_with_stored_card is True and fetched.card_token == card.card_token


def test_store_card_after_success_payment(client):
    user_key = h.uid("user")
    the_card = s.card(CARDS["halkbank"])
    the_card.card_user_key = user_key
    the_card.card_alias = "ödeme sonrası"
    the_card.store_card_after_success_payment = True
    payment = client.payment().create_payment(s.payment_request(the_card=the_card))
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.paid_with_stored_card is False
    assert payment.card_user_key == user_key and payment.card_token
    [card] = search(client, card_user_key=user_key).items
    assert card.card_token == payment.card_token
    assert card.card_alias == "ödeme sonrası"
    assert card.last_four_digits == CARDS["halkbank"][-4:]
    again = client.payment().create_payment(s.payment_request(the_card=stored_card(user_key, card.card_token)))
    assert s.enum_value(again.payment_status) == "SUCCESS" and again.paid_with_stored_card is True


def test_declined_payment_stores_no_card(client):
    user_key = h.uid("user")
    the_card = s.card(CARDS["isbank"])
    the_card.card_user_key = user_key
    the_card.store_card_after_success_payment = True
    s.expect_error(lambda: client.payment().create_payment(s.payment_request(the_card=the_card)), status=422)
    assert search(client, card_user_key=user_key).total_size == 0


def test_clone_card(client):
    source_user, target_user = h.uid("user"), h.uid("user")
    source = store(client, CARDS["ziraat"], source_user, alias="klon")
    clone = client.payment().clone_card(CloneCardRequest(
        source_card_user_key=source_user, source_card_token=source.card_token, target_card_user_key=target_user))
    assert h.last_status() == 200
    assert clone.card_user_key == target_user
    assert clone.card_token != source.card_token
    assert clone.last_four_digits == source.last_four_digits and clone.bin_number == source.bin_number
    assert clone.card_alias == "klon"
    assert search(client, card_user_key=source_user).total_size == 1
    assert [c.card_token for c in search(client, card_user_key=target_user).items] == [clone.card_token]
    # Independent of its source.
    client.payment().delete_stored_card(DeleteStoredCardRequest(card_user_key=source_user, card_token=source.card_token))
    payment = client.payment().create_payment(s.payment_request(the_card=stored_card(target_user, clone.card_token)))
    assert s.enum_value(payment.payment_status) == "SUCCESS" and payment.card_token == clone.card_token
    s.expect_error(lambda: client.payment().clone_card(CloneCardRequest(
        source_card_user_key=source_user, source_card_token=source.card_token, target_card_user_key=h.uid("u"))),
        status=404)


def test_delete_stored_card(client):
    user_key = h.uid("user")
    card = store(client, user_key=user_key)
    keep = store(client, CARDS["garanti"], user_key)
    result = client.payment().delete_stored_card(DeleteStoredCardRequest(card_user_key=user_key, card_token=card.card_token))
    assert result is None and h.last_status() in (200, 204)
    assert [c.card_token for c in search(client, card_user_key=user_key).items] == [keep.card_token]
    s.expect_error(lambda: client.payment().create_payment(
        s.payment_request(the_card=stored_card(user_key, card.card_token))), status=404)
    s.expect_error(lambda: client.payment().delete_stored_card(
        DeleteStoredCardRequest(card_user_key=user_key, card_token=card.card_token)), status=404)
    s.expect_error(lambda: client.payment().update_card(UpdateCardRequest(
        card_user_key=user_key, card_token=card.card_token, card_alias="x")), status=404)
    # Stored again, it is a new card.
    assert store(client, user_key=user_key).card_token != card.card_token


def test_wrong_user_key_for_a_token(client):
    card = store(client, user_key=h.uid("user"))
    s.expect_error(lambda: client.payment().create_payment(
        s.payment_request(the_card=stored_card(h.uid("user"), card.card_token))), status=404)


def test_another_merchant_cannot_use_the_token(client, other_merchant):
    user_key = h.uid("user")
    card = store(client, CARDS["garanti"], user_key)
    other = other_merchant["client"]
    pos = other_merchant["pos"]
    s.expect_error(lambda: other.payment().create_payment(
        s.payment_request(pos_alias=pos.alias, the_card=stored_card(user_key, card.card_token))), status=404)
    s.expect_error(lambda: other.payment().create_payment(
        s.payment_request(pos_alias=pos.alias, the_card=stored_card(user_key, card.card_token, "000"))), status=404)
    assert search(other, card_user_key=user_key).total_size == 0
    assert search(other, card_token=card.card_token).total_size == 0
    s.expect_error(lambda: other.payment().update_card(UpdateCardRequest(
        card_user_key=user_key, card_token=card.card_token, card_alias="mine")), status=404)
    s.expect_error(lambda: other.payment().clone_card(CloneCardRequest(
        source_card_user_key=user_key, source_card_token=card.card_token, target_card_user_key=h.uid("u"))),
        status=404)
    s.expect_error(lambda: other.payment().delete_stored_card(
        DeleteStoredCardRequest(card_user_key=user_key, card_token=card.card_token)), status=404)
    # Nor can the owner clone it into another merchant.
    s.expect_error(lambda: client.payment().clone_card(CloneCardRequest(
        source_card_user_key=user_key, source_card_token=card.card_token, target_card_user_key=h.uid("u"),
        target_merchant_id=int(other_merchant["keys"]["merchantId"]))), status=404)
    # The owner still has it, untouched.
    [mine] = search(client, card_token=card.card_token).items
    assert mine.card_alias is None
    payment = client.payment().create_payment(s.payment_request(the_card=stored_card(user_key, card.card_token)))
    assert s.enum_value(payment.payment_status) == "SUCCESS"
