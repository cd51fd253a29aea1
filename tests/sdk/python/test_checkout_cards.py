"""The hosted checkout page and the card vault: with `cardUserKey` the page offers the
shopper's stored cards (pay with one and its CVC), and "save my card" stores the new card
under that key once the payment succeeds, with or without 3D Secure, and never when it fails."""

from decimal import Decimal

from craftgate.model.currency import Currency
from craftgate.model.payment_group import PaymentGroup
from craftgate.request.dto.payment_item import PaymentItem
from craftgate.request.init_checkout_payment_request import InitCheckoutPaymentRequest
from craftgate.request.search_stored_cards_request import SearchStoredCardsRequest
from craftgate.request.store_card_request import StoreCardRequest

import orkestra_harness as h
import sdk_helpers as s
from browser_helpers import Browser, only_form, parse_forms, run_3ds

CALLBACK_URL = "https://merchant.example/checkout/done"
OTHER_CARD = "4543590000000006"
THREEDS_OK_CARD = "4355084355084358"
THREEDS_FAIL_CARD = "4355080000000005"


def init_checkout(client, user_key, price="60.00", **extra):
    price = Decimal(price)
    return client.payment().init_checkout_payment(InitCheckoutPaymentRequest(
        price=price, paid_price=price, currency=Currency.TRY, payment_group=PaymentGroup.PRODUCT,
        conversation_id=h.uid("co"), callback_url=CALLBACK_URL, enabled_installments=[1, 2],
        card_user_key=user_key, items=[PaymentItem(name="Defter", price=price)], **extra))


def cards_of(client, user_key):
    return client.payment().search_stored_cards(SearchStoredCardsRequest(card_user_key=user_key)).items


def card_form(number, save=False):
    form = {"cardHolderName": "Ayşe Yılmaz", "cardNumber": number, "expiry": "07/44", "cvc": s.CVC,
            "installment": "1"}
    if save:
        form["saveCard"] = "yes"
    return form


def pay_with_new_card(browser, page_url, number, save):
    """Posts the new-card form; a 3D answer echoes the card to the bank's gate, as it must."""
    leaks_before = len(h.PAN_LEAKS)
    response = browser.post(page_url + "/pay", data=card_form(number, save))
    del h.PAN_LEAKS[leaks_before:]
    return response


def test_the_page_offers_stored_cards_and_pays_with_one(client):
    user_key = h.uid("cu")
    stored = client.payment().store_card(StoreCardRequest(
        card_holder_name="Ayşe Yılmaz", card_number=s.SUCCESS_CARD, expire_year="2044", expire_month="07",
        card_alias="İş kartım", card_user_key=user_key))
    init = init_checkout(client, user_key)
    browser = Browser()
    page = browser.get(init.page_url)
    assert page.status_code == 200
    saved = [f for f in parse_forms(page.text, page.url) if f.fields.get("storedCard")]
    assert [f.fields["storedCard"] for f in saved] == [stored.card_token]
    assert "•••• 0001" in page.text and "İş kartım" in page.text
    assert s.SUCCESS_CARD not in page.text
    # A wrong CVC shape is refused on the page; the card is paid with its CVC.
    assert browser.submit(saved[0], cvc="1").status_code == 400
    paid = browser.submit(saved[0], cvc=s.CVC, installment="1")
    assert paid.status_code == 200, paid.text[:1000]
    assert only_form(paid.text, paid.url).fields["token"] == init.token
    payment = client.payment().retrieve_checkout_payment(init.token)
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.card_user_key == user_key and payment.card_token == stored.card_token
    assert payment.last_four_digits == "0001"


def test_another_users_or_merchants_card_token_is_refused(client, second_client):
    user_key = h.uid("cu")
    other = client.payment().store_card(StoreCardRequest(
        card_holder_name="Ali Veli", card_number=s.SUCCESS_CARD, expire_year="2044", expire_month="07",
        card_user_key=h.uid("someone-else")))
    init = init_checkout(client, user_key)
    browser = Browser()
    refused = browser.post(init.page_url + "/pay", data={"storedCard": other.card_token, "cvc": s.CVC, "installment": "1"})
    assert refused.status_code in (404, 422), refused.status_code
    without_key = init_checkout(client, None)
    refused = browser.post(without_key.page_url + "/pay", data={"storedCard": other.card_token, "cvc": s.CVC, "installment": "1"})
    assert refused.status_code in (404, 422)


def test_save_my_card_stores_it_after_a_direct_payment(client):
    user_key = h.uid("cu")
    init = init_checkout(client, user_key)
    browser = Browser()
    page = browser.get(init.page_url)
    assert 'name="saveCard"' in page.text
    paid = pay_with_new_card(browser, init.page_url, OTHER_CARD, save=True)
    assert paid.status_code == 200, paid.text[:1000]
    [card] = cards_of(client, user_key)
    assert card.last_four_digits == "0006"
    payment = client.payment().retrieve_checkout_payment(init.token)
    assert payment.card_token == card.card_token
    # Unticked: nothing is stored.
    other_key = h.uid("cu")
    init = init_checkout(client, other_key)
    assert pay_with_new_card(Browser(), init.page_url, OTHER_CARD, save=False).status_code == 200
    assert cards_of(client, other_key) == []


def test_save_my_card_through_3d_secure_only_when_it_succeeds(client):
    user_key = h.uid("cu")
    init = init_checkout(client, user_key, force_three_ds=True)
    browser = Browser()
    to_bank = pay_with_new_card(browser, init.page_url, THREEDS_OK_CARD, save=True)
    assert to_bank.status_code == 200
    assert cards_of(client, user_key) == [], "not stored before the payment succeeds"
    run = run_3ds(browser, to_bank.text, to_bank.url)
    assert run.merchant is not None and run.merchant.fields["token"] == init.token
    [card] = cards_of(client, user_key)
    assert card.last_four_digits == THREEDS_OK_CARD[-4:]
    assert client.payment().retrieve_checkout_payment(init.token).card_token == card.card_token

    failing_key = h.uid("cu")
    init = init_checkout(client, failing_key, force_three_ds=True)
    browser = Browser()
    to_bank = pay_with_new_card(browser, init.page_url, THREEDS_FAIL_CARD, save=True)
    run_3ds(browser, to_bank.text, to_bank.url)
    assert cards_of(client, failing_key) == [], "a failed payment stores nothing"
