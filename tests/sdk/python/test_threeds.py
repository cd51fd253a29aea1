"""3D Secure through the SDK: init_3ds_payment, the shopper's trip through the simulated
bank's 3D gate and ACS page (driven like a browser), Orkestra's callback to the merchant
(verified with the SDK's own is_3d_secure_callback_verified), complete_3ds_payment."""

import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from craftgate.model.payment_phase import PaymentPhase
from craftgate.request.complete_three_ds_payment_request import CompleteThreeDSPaymentRequest
from craftgate.request.init_three_ds_payment_request import InitThreeDSPaymentRequest
from craftgate.request.post_auth_payment_request import PostAuthPaymentRequest

import orkestra_harness as h
import sdk_helpers as s
from browser_helpers import Browser, decode_html_content, only_form, parse_forms, run_3ds
from conftest import SANDBOX_HALKBANK_CLIENT_ID, SANDBOX_ISBANK_CLIENT_ID

CALLBACK_URL = "https://merchant.example/3ds/callback?cart=42"
MD_STATUS_0_CARD = "4355080000000005"  # the simulator fails its authentication (mdStatus 0)
CALLBACK_FIELDS = ("status", "completeStatus", "paymentId", "conversationData", "conversationId",
                   "callbackStatus", "hash")


def init_3ds(client, pos_alias, card_number=s.SUCCESS_CARD, price="100", phase=PaymentPhase.AUTH,
             conversation_data=None, callback_url=CALLBACK_URL):
    base = s.payment_request(price=price, card_number=card_number, pos_alias=pos_alias, phase=phase)
    request = InitThreeDSPaymentRequest(callback_url=callback_url, **vars(base))
    if conversation_data is not None:
        request.additional_params = {"conversationData": conversation_data}
    response = client.payment().init_3ds_payment(request)
    assert h.last_status() == 200
    return base, response


def complete(client, payment_id):
    return client.payment().complete_3ds_payment(CompleteThreeDSPaymentRequest(payment_id=payment_id))


def callback_params(run):
    assert run.orkestra.status_code == 200, f"{run.orkestra.status_code}: {run.orkestra.text[:2000]}"
    assert run.merchant is not None, run.orkestra.text[:2000]
    assert run.merchant.action == CALLBACK_URL
    assert run.merchant.method == "post"
    assert set(CALLBACK_FIELDS) <= set(run.merchant.fields), run.merchant.fields
    return dict(run.merchant.fields)


def approved(order, kind):
    return [t for t in order["transactions"] if t["type"] == kind and t["approved"]]


@pytest.fixture(scope="module")
def callback_key(sandbox_keys):
    return sandbox_keys["threeDsCallbackKey"]


def test_init_answers_a_page_that_posts_the_card_to_the_bank(client, server, isbank_alias, sim):
    base, init = init_3ds(client, isbank_alias, price="77.50")
    assert isinstance(init.payment_id, int)
    assert s.enum_value(init.payment_status) == "INIT_THREEDS"
    assert s.enum_value(init.additional_action) == "REDIRECT_TO_URL"
    assert init.redirect_url.startswith(server.base_url + "/threeds/redirect/")

    page = decode_html_content(init.html_content)
    form = only_form(page, server.base_url)
    assert form.action == server.base_url + "/sim/nestpay/fim/est3Dgate"
    assert form.method == "post"
    f = form.fields
    assert f["clientid"] == SANDBOX_ISBANK_CLIENT_ID
    assert f["storetype"] == "3d"
    assert Decimal(f["amount"]) == Decimal("77.50")
    assert f["currency"] == "949"
    assert f["okUrl"].startswith(server.base_url + "/threeds/callback/")
    assert f["failUrl"] == f["okUrl"]
    assert f["pan"] == s.SUCCESS_CARD  # only the bank's form carries the card
    assert f["hash"]

    # Nothing is charged yet, and the merchant cannot complete before the bank's callback.
    payment = client.payment().retrieve_payment(init.payment_id)
    assert s.enum_value(payment.payment_status) == "INIT_THREEDS"
    assert payment.conversation_id == base.conversation_id
    assert sim.order(SANDBOX_ISBANK_CLIENT_ID, f["oid"]) is None
    e = s.expect_error(lambda: complete(client, init.payment_id))
    assert h.last_status() in (400, 422), h.last_status()
    assert e.error_code == "4402", repr(e)


def test_redirect_url_serves_the_bank_page_once(client, isbank_alias):
    """`redirectUrl` serves the same page as htmlContent, once. That page must carry the
    card fields for the bank, so it is fetched with urllib, outside the harness's watch
    for card numbers in Orkestra's responses (which would rightly flag it otherwise)."""
    _, init = init_3ds(client, isbank_alias)
    browser = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    with browser.open(init.redirect_url, timeout=30) as r:
        assert r.status == 200
        served = r.read().decode("utf-8")
    assert only_form(served).fields == only_form(decode_html_content(init.html_content)).fields
    with pytest.raises(urllib.error.HTTPError) as again:
        browser.open(init.redirect_url, timeout=30)
    assert again.value.code in (404, 410)


def test_successful_3ds_payment(client, sim, isbank_alias, callback_key):
    conversation_data = "sepet #42 · çğıöşü & <b>"
    base, init = init_3ds(client, isbank_alias, price="120.40", conversation_data=conversation_data)
    browser = Browser()
    run = run_3ds(browser, decode_html_content(init.html_content))

    bank = run.bank_callback.fields
    assert bank["mdStatus"] == "1"
    assert run.bank_callback.action == only_form(decode_html_content(init.html_content)).fields["okUrl"]

    params = callback_params(run)
    assert params["status"] == "SUCCESS"
    assert params["callbackStatus"] == "SUCCESS"
    assert params["completeStatus"] == "WAITING"
    assert params["paymentId"] == str(init.payment_id)
    assert params["conversationId"] == base.conversation_id
    assert params["conversationData"] == conversation_data

    # The SDK's own check of Craftgate's callback hash.
    assert client.payment().is_3d_secure_callback_verified(callback_key, params) is True
    for name, forged in [("status", "FAILURE"), ("completeStatus", "COMPLETED"),
                         ("paymentId", str(init.payment_id + 1)), ("conversationData", "other"),
                         ("conversationId", "conv-other"), ("callbackStatus", "FAILURE"),
                         ("hash", params["hash"][:-1] + ("0" if params["hash"][-1] != "0" else "1"))]:
        tampered = dict(params, **{name: forged})
        assert client.payment().is_3d_secure_callback_verified(callback_key, tampered) is False, name
    assert client.payment().is_3d_secure_callback_verified("wrong" + callback_key, params) is False

    # Authenticated, not charged yet.
    assert s.enum_value(client.payment().retrieve_payment(init.payment_id).payment_status) == "CALLBACK_THREEDS"
    assert sim.order(SANDBOX_ISBANK_CLIENT_ID, bank["oid"]) is None

    payment = complete(client, init.payment_id)
    assert h.last_status() == 200
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.id == init.payment_id
    assert payment.is_three_ds is True
    assert payment.paid_price == Decimal("120.40")
    assert payment.conversation_id == base.conversation_id
    assert payment.auth_code
    order = sim.order(SANDBOX_ISBANK_CLIENT_ID, payment.order_id)
    assert [t["amountMinor"] for t in approved(order, "Auth")] == [12040]

    fetched = client.payment().retrieve_payment(init.payment_id)
    assert s.enum_value(fetched.payment_status) == "SUCCESS"
    assert fetched.is_three_ds is True
    assert str(fetched.md_status) == "1"
    report = client.payment_reporting().retrieve_payment(init.payment_id)
    assert report.is_three_ds is True

    # Completing again answers the same payment and charges nothing more.
    again = complete(client, init.payment_id)
    assert s.enum_value(again.payment_status) == "SUCCESS" and again.id == payment.id
    assert len(approved(sim.order(SANDBOX_ISBANK_CLIENT_ID, payment.order_id), "Auth")) == 1


def test_replayed_or_tampered_bank_callback_is_refused(client, sim, isbank_alias, callback_key):
    _, init = init_3ds(client, isbank_alias, price="30")
    browser = Browser()
    start = only_form(decode_html_content(init.html_content))
    gate = browser.submit(start)
    acs = browser.submit(only_form(gate.text, gate.url), otp="123456", action="confirm")
    genuine = only_form(acs.text, acs.url)

    # A tampered callback (another amount) is refused and changes nothing...
    forged = browser.post(genuine.action, data=dict(genuine.fields, amount="3.00"))
    assert forged.status_code == 400, forged.text[:1000]
    assert s.enum_value(client.payment().retrieve_payment(init.payment_id).payment_status) == "INIT_THREEDS"
    # ...so the genuine one still goes through, once.
    ok = browser.post(genuine.action, data=genuine.fields)
    assert ok.status_code == 200, ok.text[:1000]
    params = only_form(ok.text, ok.url).fields
    assert params["status"] == "SUCCESS"
    assert client.payment().is_3d_secure_callback_verified(callback_key, params)
    replay = browser.post(genuine.action, data=genuine.fields)
    assert replay.status_code == 400, replay.text[:1000]
    assert not parse_merchant_form(replay.text)

    payment = complete(client, init.payment_id)
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert len(approved(sim.order(SANDBOX_ISBANK_CLIENT_ID, payment.order_id), "Auth")) == 1


def parse_merchant_form(html):
    return [f for f in parse_forms(html) if f.action == CALLBACK_URL]


@pytest.mark.parametrize(
    "card_number, otp, action",
    [
        (MD_STATUS_0_CARD, "123456", "confirm"),  # the issuer's ACS fails it whatever the OTP
        (s.SUCCESS_CARD, "654321", "confirm"),  # wrong OTP
        (s.SUCCESS_CARD, "123456", "cancel"),  # the shopper cancels
    ],
    ids=["md-status-0-card", "wrong-otp", "cancelled"],
)
def test_failed_authentication(client, sim, isbank_alias, callback_key, card_number, otp, action):
    base, init = init_3ds(client, isbank_alias, card_number=card_number, price="55")
    run = run_3ds(Browser(), decode_html_content(init.html_content), otp=otp, action=action)
    assert run.bank_callback.fields["mdStatus"] == "0"
    params = callback_params(run)
    assert params["status"] == "FAILURE"
    assert params["callbackStatus"] == "FAILURE"
    assert params["paymentId"] == str(init.payment_id)
    assert params["conversationId"] == base.conversation_id
    # A failure is signed too: the merchant can trust it.
    assert client.payment().is_3d_secure_callback_verified(callback_key, params) is True
    assert client.payment().is_3d_secure_callback_verified(callback_key, dict(params, status="SUCCESS")) is False

    s.expect_error(lambda: complete(client, init.payment_id), group="THREEDS_AUTHENTICATION_FAILED")
    assert h.last_status() == 422

    payment = client.payment().retrieve_payment(init.payment_id)
    assert s.enum_value(payment.payment_status) == "FAILURE"
    assert payment.is_three_ds is True
    assert str(payment.md_status) == "0"
    assert payment.payment_error is not None
    assert s.enum_value(payment.payment_error.error_group) == "THREEDS_AUTHENTICATION_FAILED"
    # Nothing reached the bank's books.
    assert sim.order(SANDBOX_ISBANK_CLIENT_ID, run.bank_callback.fields["oid"]) is None


def test_decline_at_provision_after_authentication(client, sim, isbank_alias, callback_key):
    """A decline card authenticates; the bank declines it when the merchant completes."""
    _, init = init_3ds(client, isbank_alias, card_number="5101520000006662", price="64")
    run = run_3ds(Browser(), decode_html_content(init.html_content))
    params = callback_params(run)
    assert params["status"] == "SUCCESS"
    assert client.payment().is_3d_secure_callback_verified(callback_key, params)
    e = s.expect_error(lambda: complete(client, init.payment_id), status=422, group="STOLEN_CARD")
    assert e.provider_error is not None
    payment = client.payment().retrieve_payment(init.payment_id)
    assert s.enum_value(payment.payment_status) == "FAILURE"
    assert payment.is_three_ds is True
    order = sim.order(SANDBOX_ISBANK_CLIENT_ID, run.bank_callback.fields["oid"])
    assert order is not None and approved(order, "Auth") == []


def test_3ds_pre_auth_then_post_auth(client, sim, halkbank_alias, callback_key):
    _, init = init_3ds(client, halkbank_alias, price="80", phase=PaymentPhase.PRE_AUTH)
    assert only_form(decode_html_content(init.html_content)).fields["TranType"] == "PreAuth"
    run = run_3ds(Browser(), decode_html_content(init.html_content))
    assert client.payment().is_3d_secure_callback_verified(callback_key, callback_params(run))
    pre = complete(client, init.payment_id)
    assert s.enum_value(pre.payment_status) == "SUCCESS"
    assert s.enum_value(pre.payment_phase) == "PRE_AUTH"
    assert pre.is_three_ds is True
    captured = client.payment().post_auth_payment(pre.id, PostAuthPaymentRequest(paid_price=Decimal("80")))
    assert s.enum_value(captured.payment_phase) == "POST_AUTH"
    order = sim.order(SANDBOX_HALKBANK_CLIENT_ID, pre.order_id)
    assert order["capturedMinor"] == 8000
