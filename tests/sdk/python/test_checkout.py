"""The hosted checkout page: init_checkout_payment through the SDK, the page paid like a
browser would pay it, retrieve_checkout_payment and expire_checkout_payment."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from craftgate.model.currency import Currency
from craftgate.model.payment_group import PaymentGroup
from craftgate.request.dto.payment_item import PaymentItem
from craftgate.request.expire_checkout_payment_request import ExpireCheckoutPaymentRequest
from craftgate.request.init_checkout_payment_request import InitCheckoutPaymentRequest

import orkestra_harness as h
import sdk_helpers as s
from browser_helpers import Browser, only_form, parse_forms, run_3ds

CALLBACK_URL = "https://merchant.example/checkout/done"
ISTANBUL = ZoneInfo("Europe/Istanbul")


def init_checkout(client, price="150.00", installments=(1, 2, 3), **extra):
    price = Decimal(price)
    request = InitCheckoutPaymentRequest(
        price=price,
        paid_price=price,
        currency=Currency.TRY,
        payment_group=PaymentGroup.PRODUCT,
        conversation_id=h.uid("co"),
        callback_url=CALLBACK_URL,
        enabled_installments=list(installments),
        items=[PaymentItem(name="Defter", price=price, external_id=h.uid("item"))],
        **extra,
    )
    response = client.payment().init_checkout_payment(request)
    assert h.last_status() == 200
    return request, response


def card_form(number=s.SUCCESS_CARD, installment="1", expiry="07/44", cvc=s.CVC, holder="Ayşe Yılmaz"):
    return {"cardHolderName": holder, "cardNumber": number, "expiry": expiry, "cvc": cvc,
            "installment": installment}


def pay_on_page(browser, page_url, **card):
    return browser.post(page_url + "/pay", data=card_form(**card))


def returned_token(response):
    """The page's answer after a payment: a form posting `token` to the merchant."""
    assert response.status_code == 200, f"{response.status_code}: {response.text[:2000]}"
    form = only_form(response.text, response.url)
    assert form.action == CALLBACK_URL and form.method == "post"
    return form.fields["token"]


def test_init_returns_token_page_and_expiry(client, server):
    before = datetime.now(ISTANBUL).replace(tzinfo=None, microsecond=0)
    _, init = init_checkout(client, ttl=600)
    assert init.token and len(init.token) >= 20
    assert init.page_url == f"{server.base_url}/checkout/{init.token}"
    # Istanbul wall-clock time, like every date-time of the API.
    assert isinstance(init.token_expire_date, datetime)
    assert before + timedelta(seconds=590) <= init.token_expire_date <= before + timedelta(seconds=620), (
        before, init.token_expire_date)
    _, default = init_checkout(client)
    assert default.token != init.token
    assert default.token_expire_date > init.token_expire_date


def test_retrieve_before_paying_is_not_found(client):
    _, init = init_checkout(client)
    s.expect_error(lambda: client.payment().retrieve_checkout_payment(init.token), status=404)
    s.expect_error(lambda: client.payment().retrieve_checkout_payment("no-such-token-" + h.uid()), status=404)


def test_page_shows_the_amount_and_a_card_form(client):
    _, init = init_checkout(client, price="150.00")
    browser = Browser()
    page = browser.get(init.page_url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "150,00" in page.text
    form = [f for f in parse_forms(page.text, page.url) if f.id == "pay-form"][0]
    assert form.action.startswith(init.page_url + "/pay")
    assert {"cardHolderName", "cardNumber", "expiry", "cvc", "installment"} <= set(form.fields)
    english = browser.get(init.page_url + "?lang=en")
    assert english.status_code == 200 and 'lang="en"' in english.text
    # The page asks for the installment options of the card typed in (a Bonus credit card).
    options = browser.get(init.page_url + "/installments", params={"bin": s.BONUS_CARD[:6]})
    assert options.status_code == 200
    assert [o["installment"] for o in options.json()["options"]] == [1, 2, 3]
    assert all(o["totalPriceMinor"] == 15000 for o in options.json()["options"])


def test_pay_on_the_page_then_retrieve(client, sim, sandbox_poses):
    request, init = init_checkout(client, price="150.00")
    browser = Browser()
    assert browser.get(init.page_url).status_code == 200
    answer = pay_on_page(browser, init.page_url)
    assert returned_token(answer) == init.token

    payment = client.payment().retrieve_checkout_payment(init.token)
    assert h.last_status() == 200
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert s.enum_value(payment.payment_source) == "CHECKOUT_FORM"
    assert payment.price == Decimal("150.00") and payment.paid_price == Decimal("150.00")
    assert payment.installment == 1
    assert payment.conversation_id == request.conversation_id
    assert payment.card_holder_name == "Ayşe Yılmaz"
    assert payment.bin_number == s.SUCCESS_CARD[:6] and payment.last_four_digits == s.SUCCESS_CARD[-4:]
    assert [t.price for t in payment.payment_transactions] == [Decimal("150.00")]
    # The same payment through the card-payment and reporting endpoints, and at the bank.
    assert client.payment().retrieve_payment(payment.id).id == payment.id
    assert s.enum_value(client.payment_reporting().retrieve_payment(payment.id).payment_source) == "CHECKOUT_FORM"
    client_id = next(cid for cid, pos in sandbox_poses.items() if pos.alias == payment.pos.alias)
    order = sim.order(client_id, payment.order_id)
    assert [t["amountMinor"] for t in order["transactions"] if t["approved"]] == [15000]

    # A paid token cannot pay again; its page says it is complete.
    again = pay_on_page(browser, init.page_url, number=s.BONUS_CARD)
    assert again.status_code == 410, again.text[:500]
    assert browser.get(init.page_url).status_code == 200
    assert client.payment().retrieve_checkout_payment(init.token).id == payment.id
    assert len([t for t in sim.order(client_id, payment.order_id)["transactions"] if t["approved"]]) == 1


def test_pay_in_installments(client):
    _, init = init_checkout(client, price="300.00", installments=(1, 2, 3))
    browser = Browser()
    answer = pay_on_page(browser, init.page_url, number=s.BONUS_CARD, installment="3")
    assert returned_token(answer) == init.token
    payment = client.payment().retrieve_checkout_payment(init.token)
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.installment == 3
    assert payment.paid_price == Decimal("300.00")


def test_installment_not_offered_is_refused_on_the_page(client):
    _, init = init_checkout(client, installments=(1, 2))
    browser = Browser()
    refused = pay_on_page(browser, init.page_url, number=s.BONUS_CARD, installment="6")
    assert refused.status_code in (400, 422), refused.text[:500]
    assert only_form(refused.text, refused.url).action.startswith(init.page_url + "/pay")
    s.expect_error(lambda: client.payment().retrieve_checkout_payment(init.token), status=404)
    assert returned_token(pay_on_page(browser, init.page_url, number=s.BONUS_CARD, installment="2")) == init.token
    assert client.payment().retrieve_checkout_payment(init.token).installment == 2


@pytest.mark.parametrize("fields", [
    {"number": "4111111111111112"},  # not Luhn-valid
    {"expiry": "13/44"},
    {"expiry": "07"},
    {"cvc": "1"},
    {"holder": ""},
])
def test_invalid_card_fields_show_the_page_again(client, fields):
    _, init = init_checkout(client)
    answer = pay_on_page(Browser(), init.page_url, **fields)
    assert answer.status_code == 400, (answer.status_code, answer.text[:500])
    assert [f for f in parse_forms(answer.text, answer.url) if f.id == "pay-form"]
    s.expect_error(lambda: client.payment().retrieve_checkout_payment(init.token), status=404)


def test_expired_card_is_declined_on_the_page(client):
    _, init = init_checkout(client)
    answer = pay_on_page(Browser(), init.page_url, expiry="01/20")
    assert answer.status_code == 422, answer.text[:500]
    assert [f for f in parse_forms(answer.text, answer.url) if f.id == "pay-form"]
    s.expect_error(lambda: client.payment().retrieve_checkout_payment(init.token), status=404)


def test_declined_card_can_try_another_card(client):
    _, init = init_checkout(client, price="20.00")
    browser = Browser()
    declined = pay_on_page(browser, init.page_url, number="5100050000006661")  # NOT_SUFFICIENT_FUNDS
    assert declined.status_code == 422, declined.text[:500]
    assert [f for f in parse_forms(declined.text, declined.url) if f.id == "pay-form"]
    assert returned_token(pay_on_page(browser, init.page_url)) == init.token
    payment = client.payment().retrieve_checkout_payment(init.token)
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.last_four_digits == s.SUCCESS_CARD[-4:]


def test_force_three_ds_goes_through_the_bank(client):
    _, init = init_checkout(client, price="45.00", force_three_ds=True)
    browser = Browser()
    # With the bank's `3d` model the card goes from the shopper's browser to the bank's 3D
    # gate: the page answers the browser an auto-submitting form holding the card typed in.
    # The harness's watch for card numbers in Orkestra's responses rightly notices it; this
    # one (and only this one) is expected.
    leaks_before = len(h.PAN_LEAKS)
    to_bank = pay_on_page(browser, init.page_url)
    echoed = h.PAN_LEAKS[leaks_before:]
    assert echoed == [f"POST {init.page_url}/pay -> 200: {s.SUCCESS_CARD}"], echoed
    del h.PAN_LEAKS[leaks_before:]
    assert to_bank.status_code == 200, to_bank.text[:500]
    assert only_form(to_bank.text, to_bank.url).action.endswith("/sim/nestpay/fim/est3Dgate")
    run = run_3ds(browser, to_bank.text, to_bank.url)
    assert run.bank_callback.fields["mdStatus"] == "1"
    assert run.merchant is not None and run.merchant.action == CALLBACK_URL
    assert run.merchant.fields["token"] == init.token
    payment = client.payment().retrieve_checkout_payment(init.token)
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.is_three_ds is True
    assert s.enum_value(payment.payment_source) == "CHECKOUT_FORM"


def test_expire_an_unpaid_token(client):
    _, init = init_checkout(client)
    browser = Browser()
    assert browser.get(init.page_url).status_code == 200
    result = client.payment().expire_checkout_payment(ExpireCheckoutPaymentRequest(token=init.token))
    assert result is None and h.last_status() in (200, 204)
    assert browser.get(init.page_url).status_code == 410
    assert pay_on_page(browser, init.page_url).status_code == 410
    s.expect_error(lambda: client.payment().retrieve_checkout_payment(init.token), status=404)


def test_expire_a_paid_token_is_refused(client):
    _, init = init_checkout(client)
    returned_token(pay_on_page(Browser(), init.page_url))
    s.expect_error(lambda: client.payment().expire_checkout_payment(ExpireCheckoutPaymentRequest(token=init.token)))
    assert h.last_status() in (400, 422)
    assert s.enum_value(client.payment().retrieve_checkout_payment(init.token).payment_status) == "SUCCESS"


def test_unknown_token_page_is_not_found(server):
    browser = Browser()
    assert browser.get(f"{server.base_url}/checkout/{h.uid('nope')}").status_code == 404
    assert browser.post(f"{server.base_url}/checkout/{h.uid('nope')}/pay", data=card_form()).status_code == 404


def test_other_merchant_cannot_read_or_expire(client, second_client):
    _, init = init_checkout(client)
    s.expect_error(lambda: second_client.payment().expire_checkout_payment(
        ExpireCheckoutPaymentRequest(token=init.token)), status=404)
    returned_token(pay_on_page(Browser(), init.page_url))
    s.expect_error(lambda: second_client.payment().retrieve_checkout_payment(init.token), status=404)
    assert s.enum_value(client.payment().retrieve_checkout_payment(init.token).payment_status) == "SUCCESS"
