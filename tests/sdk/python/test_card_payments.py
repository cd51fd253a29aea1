"""Non-3DS card payments through the SDK: auth, pre-auth/post-auth, declines, validation."""

from datetime import datetime
from decimal import Decimal

import pytest
from craftgate.model.currency import Currency
from craftgate.model.payment_phase import PaymentPhase
from craftgate.request.post_auth_payment_request import PostAuthPaymentRequest
from craftgate.request.search_payments_request import SearchPaymentsRequest

import orkestra_harness as h
import sdk_helpers as s
from conftest import SANDBOX_HALKBANK_CLIENT_ID, SANDBOX_ISBANK_CLIENT_ID


@pytest.mark.parametrize("client_id", [SANDBOX_ISBANK_CLIENT_ID, SANDBOX_HALKBANK_CLIENT_ID],
                         ids=["isbank", "halkbank"])
def test_auth_success_via_each_sandbox_pos(client, sim, sandbox_poses, client_id):
    alias = sandbox_poses[client_id].alias
    conversation_id = h.uid("conv")
    request = s.payment_request(price="100.50", items=["40.25", "60.25"], pos_alias=alias,
                                conversation_id=conversation_id)
    payment = client.payment().create_payment(request)
    assert h.last_status() == 200
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert s.enum_value(payment.payment_phase) == "AUTH"
    assert s.enum_value(payment.payment_type) == "CARD_PAYMENT"
    assert s.enum_value(payment.payment_source) == "API"
    assert s.enum_value(payment.payment_provider) == "BANK"
    assert s.enum_value(payment.currency) == "TRY"
    assert payment.price == Decimal("100.50") and payment.paid_price == Decimal("100.50")
    assert payment.installment == 1
    assert payment.conversation_id == conversation_id
    assert payment.pos.alias == alias and payment.requested_pos_alias == alias
    assert payment.order_id and payment.auth_code and payment.host_reference
    assert payment.bin_number == "525864" and payment.last_four_digits == "0001"
    assert s.enum_value(payment.card_association) == "MASTER_CARD"
    assert s.enum_value(payment.card_type) == "CREDIT_CARD"
    assert payment.card_brand == "World"
    assert payment.card_holder_name == "Haluk Demir"
    assert payment.is_three_ds is False
    assert isinstance(payment.created_date, datetime)
    assert len(payment.payment_transactions) == 2
    assert sum(Decimal(str(t.paid_price)) for t in payment.payment_transactions) == Decimal("100.50")
    assert [Decimal(str(t.price)) for t in payment.payment_transactions] == [Decimal("40.25"), Decimal("60.25")]

    # The bank booked exactly this sale.
    order = sim.order(client_id, payment.order_id)
    assert order is not None
    assert order["amountMinor"] == 10050 and order["type"] == "Auth"
    assert len(s.sim_orders_with(sim, client_id, payment.order_id)) == 1

    # Read back through the payment API and payment reporting.
    again = client.payment().retrieve_payment(payment.id)
    for field in ("id", "order_id", "auth_code", "price", "paid_price", "conversation_id",
                  "bin_number", "last_four_digits", "created_date"):
        assert getattr(again, field) == getattr(payment, field), field
    assert s.enum_value(again.payment_status) == "SUCCESS"
    assert [t.id for t in again.payment_transactions] == [t.id for t in payment.payment_transactions]
    report = client.payment_reporting().retrieve_payment(payment.id)
    assert report.id == payment.id
    assert s.enum_value(report.payment_status) == "SUCCESS"
    assert report.order_id == payment.order_id
    assert Decimal(str(report.paid_price)) == Decimal("100.50")
    assert report.refunds == []


def test_default_routing_picks_a_sandbox_pos(client, sandbox_poses):
    payment = client.payment().create_payment(s.payment_request())
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.pos.alias in {p.alias for p in sandbox_poses.values()}
    assert payment.requested_pos_alias is None


def test_pre_auth_then_full_post_auth(client, sim, isbank_alias):
    pre = client.payment().create_payment(
        s.payment_request(price="250", pos_alias=isbank_alias, phase=PaymentPhase.PRE_AUTH)
    )
    assert s.enum_value(pre.payment_status) == "SUCCESS"
    assert s.enum_value(pre.payment_phase) == "PRE_AUTH"
    order = sim.order(SANDBOX_ISBANK_CLIENT_ID, pre.order_id)
    assert order["type"] == "PreAuth" and order["amountMinor"] == 25000
    assert order["capturedMinor"] == 0

    post = client.payment().post_auth_payment(pre.id, PostAuthPaymentRequest(paid_price=Decimal("250")))
    assert post.id == pre.id
    assert s.enum_value(post.payment_phase) == "POST_AUTH"
    assert s.enum_value(post.payment_status) == "SUCCESS"
    assert post.paid_price == Decimal("250")
    order = sim.order(SANDBOX_ISBANK_CLIENT_ID, pre.order_id)
    assert order["capturedMinor"] == 25000
    assert s.enum_value(client.payment().retrieve_payment(pre.id).payment_phase) == "POST_AUTH"
    # A second capture is refused.
    s.expect_error(lambda: client.payment().post_auth_payment(pre.id, PostAuthPaymentRequest()))
    assert h.last_status() in (400, 409, 422)


def test_pre_auth_then_smaller_post_auth(client, sim, halkbank_alias):
    pre = client.payment().create_payment(
        s.payment_request(price="300", pos_alias=halkbank_alias, phase=PaymentPhase.PRE_AUTH)
    )
    post = client.payment().post_auth_payment(pre.id, PostAuthPaymentRequest(paid_price=Decimal("180.40")))
    assert s.enum_value(post.payment_phase) == "POST_AUTH"
    assert post.paid_price == Decimal("180.40")
    order = sim.order(SANDBOX_HALKBANK_CLIENT_ID, pre.order_id)
    assert order["capturedMinor"] == 18040


def test_post_auth_above_authorised_amount_is_refused(client, sim, isbank_alias):
    pre = client.payment().create_payment(
        s.payment_request(price="50", pos_alias=isbank_alias, phase=PaymentPhase.PRE_AUTH)
    )
    e = s.expect_error(
        lambda: client.payment().post_auth_payment(pre.id, PostAuthPaymentRequest(paid_price=Decimal("50.01")))
    )
    assert h.last_status() in (400, 422), e
    # Nothing was captured; the pre-auth can still be captured properly.
    assert sim.order(SANDBOX_ISBANK_CLIENT_ID, pre.order_id)["capturedMinor"] == 0
    still = client.payment().retrieve_payment(pre.id)
    assert s.enum_value(still.payment_phase) == "PRE_AUTH"
    post = client.payment().post_auth_payment(pre.id, PostAuthPaymentRequest(paid_price=Decimal("50")))
    assert s.enum_value(post.payment_phase) == "POST_AUTH"


def test_post_auth_of_a_sale_is_refused(client, isbank_alias):
    sale = client.payment().create_payment(s.payment_request(pos_alias=isbank_alias))
    s.expect_error(lambda: client.payment().post_auth_payment(sale.id, PostAuthPaymentRequest()))
    assert h.last_status() in (400, 422)


@pytest.mark.parametrize("card_number,group", s.DECLINE_CARDS, ids=[f"{c}-{g}" for c, g in s.DECLINE_CARDS])
def test_decline_cards_give_their_error_group(client, isbank_alias, card_number, group):
    e = s.expect_error(
        lambda: client.payment().create_payment(
            s.payment_request(pos_alias=isbank_alias, card_number=card_number)
        ),
        status=422,
        group=group,
    )
    assert e.provider_error is not None, "declines carry the bank's providerError"
    assert e.provider_error.error_code


def test_approved_completed_card_is_approved(client, isbank_alias):
    payment = client.payment().create_payment(
        s.payment_request(pos_alias=isbank_alias, card_number=s.APPROVED_COMPLETED_CARD)
    )
    assert s.enum_value(payment.payment_status) == "SUCCESS"


def test_declined_payment_is_recorded_as_failure(client, sim, isbank_alias):
    conversation_id = h.uid("decl")
    s.expect_error(
        lambda: client.payment().create_payment(
            s.payment_request(pos_alias=isbank_alias, card_number="5101520000006662",
                              conversation_id=conversation_id)
        ),
        status=422,
        group="STOLEN_CARD",
    )
    found = client.payment_reporting().search_payments(SearchPaymentsRequest(conversation_id=conversation_id))
    assert found.total_size == 1
    failed = found.items[0]
    assert s.enum_value(failed.payment_status) == "FAILURE"
    assert failed.payment_error is not None
    assert failed.payment_error.error_group == "STOLEN_CARD"
    assert failed.last_four_digits == "6662"
    again = client.payment().retrieve_payment(failed.id)
    assert s.enum_value(again.payment_status) == "FAILURE"
    # A failed payment cannot be refunded or captured.
    from craftgate.request.refund_payment_request import RefundPaymentRequest

    s.expect_error(lambda: client.payment().refund_payment(RefundPaymentRequest(payment_id=failed.id)))
    assert h.last_status() in (400, 422)


def test_installment_3(client, sim, halkbank_alias):
    payment = client.payment().create_payment(
        s.payment_request(price="360", pos_alias=halkbank_alias, installment=3)
    )
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.installment == 3
    order = sim.order(SANDBOX_HALKBANK_CLIENT_ID, payment.order_id)
    assert order["installment"] in (3, "3")
    assert order["amountMinor"] == 36000


def test_paid_price_above_price_is_charged(client, sim, isbank_alias):
    """paidPrice (installment interest included) is what the card pays."""
    payment = client.payment().create_payment(
        s.payment_request(price="100", paid_price="105.30", pos_alias=isbank_alias, installment=2)
    )
    assert payment.paid_price == Decimal("105.30") and payment.price == Decimal("100")
    assert sim.order(SANDBOX_ISBANK_CLIENT_ID, payment.order_id)["amountMinor"] == 10530
    assert sum(Decimal(str(t.paid_price)) for t in payment.payment_transactions) == Decimal("105.30")


def test_price_not_sum_of_items_is_400(client, sim):
    before = len(sim.orders(SANDBOX_ISBANK_CLIENT_ID))
    s.expect_error(
        lambda: client.payment().create_payment(s.payment_request(price="100", items=["30", "60"])),
        status=400,
    )
    assert len(sim.orders(SANDBOX_ISBANK_CLIENT_ID)) == before


# --- validation: every bad input is a clear 4xx and never reaches the bank -------------

SDK_VALIDATION_CASES = {
    "bad-luhn": dict(the_card=s.card("5258640000000002")),
    "short-number": dict(the_card=s.card("52586400")),
    "letters-in-number": dict(the_card=s.card("5258abcd00000001")),
    "expired-card": dict(the_card=s.card(month="01", year="2020")),
    "bad-month": dict(the_card=s.card(month="13")),
    "bad-cvc-letters": dict(the_card=s.card(cvc="12a")),
    "bad-cvc-long": dict(the_card=s.card(cvc="12345")),
    "installment-13": dict(installment=13),
    "installment-0": dict(installment=0),
    "negative-price": dict(price="-10", items=["-10"]),
    "zero-price": dict(price="0", items=["0"]),
    "over-precise-price": dict(price="100.001", items=["100.001"]),
    "paid-below-price": dict(price="100", paid_price="99"),
    "unknown-pos-alias": dict(pos_alias="99-nobank-424242"),
    "usd-without-usd-pos": dict(currency=Currency.USD),
}


@pytest.mark.parametrize("case", list(SDK_VALIDATION_CASES), ids=list(SDK_VALIDATION_CASES))
def test_invalid_payment_requests_are_clear_4xx(client, sim, case):
    before = len(sim.orders(SANDBOX_ISBANK_CLIENT_ID)) + len(sim.orders(SANDBOX_HALKBANK_CLIENT_ID))
    e = s.expect_error(lambda: client.payment().create_payment(s.payment_request(**SDK_VALIDATION_CASES[case])))
    status = h.last_status()
    if case == "expired-card":
        assert status in (400, 422), e  # Craftgate answers EXPIRED_CARD
    else:
        assert status == 400, (status, repr(e))
    after = len(sim.orders(SANDBOX_ISBANK_CLIENT_ID)) + len(sim.orders(SANDBOX_HALKBANK_CLIENT_ID))
    assert after == before, "an invalid request reached the bank"


RAW_VALIDATION_CASES = {
    "unknown-currency": dict(currency="XYZ"),
    "lowercase-currency": dict(currency="try"),
    "price-as-text": dict(price="abc", items=[{"name": "a", "price": "abc"}]),
    "price-missing": dict(price=None),
    "items-missing": dict(items=None),
    "items-empty": dict(items=[]),
    "card-missing": dict(card=None),
    "card-number-missing": dict(card={"cardNumber": None}),
    "cvc-3-letters": dict(card={"cvc": "abc"}),
    "expire-year-text": dict(card={"expireYear": "20xx"}),
    "installment-text": dict(installment="three"),
    "installment-13": dict(installment=13),
    "unknown-phase": dict(paymentPhase="SOMETIMES"),
    "post-auth-phase": dict(paymentPhase="POST_AUTH"),
    "unknown-group": dict(paymentGroup="GROCERIES"),
    "huge-price": dict(price=1e30, paidPrice=1e30, items=[{"name": "a", "price": 1e30}]),
    "wallet-price": dict(walletPrice=10),
    "body-is-array": "[]",
    "body-is-string": '"hello"',
}


@pytest.mark.parametrize("case", list(RAW_VALIDATION_CASES), ids=list(RAW_VALIDATION_CASES))
def test_invalid_raw_payment_requests_are_400(raw, sim, case):
    spec = RAW_VALIDATION_CASES[case]
    body = spec if isinstance(spec, str) else s.raw_payment_body(**spec)
    before = len(sim.orders(SANDBOX_ISBANK_CLIENT_ID))
    errors = h.errors_of(raw.post("/payment/v1/card-payments", body), 400)
    assert errors["errorCode"] not in ("0", "1")
    assert len(sim.orders(SANDBOX_ISBANK_CLIENT_ID)) == before


def test_validation_errors_name_the_problem(client):
    e = s.expect_error(lambda: client.payment().create_payment(s.payment_request(installment=13)), status=400)
    assert "installment" in e.error_description.lower()
    e = s.expect_error(lambda: client.payment().create_payment(s.payment_request(price="100", items=["30", "60"])),
                       status=400)
    assert "price" in e.error_description.lower()
    e = s.expect_error(lambda: client.payment().create_payment(s.payment_request(pos_alias="99-nobank-424242")),
                       status=400)
    assert "99-nobank-424242" in e.error_description


def test_unknown_payment_is_404(client, raw):
    s.expect_error(lambda: client.payment().retrieve_payment(987654321), status=404)
    s.expect_error(lambda: client.payment_reporting().retrieve_payment(987654321), status=404)
    s.expect_error(lambda: client.payment().post_auth_payment(987654321, PostAuthPaymentRequest()), status=404)
    h.errors_of(raw.get("/payment/v1/card-payments/not-a-number"), 404)


def test_card_number_never_in_any_response(client, raw, isbank_alias):
    """Success, decline, validation error, retrieve and reporting: no PAN in any body."""
    pans = ["5258640000000001", "5101520000006662", "5258640000000002", s.BONUS_CARD]
    bodies = []
    ok = raw.post("/payment/v1/card-payments", s.raw_payment_body(posAlias=isbank_alias))
    bodies.append(ok.text)
    payment_id = h.data_of(ok)["id"]
    bodies.append(raw.post("/payment/v1/card-payments",
                           s.raw_payment_body(card={"cardNumber": "5101520000006662"})).text)
    bodies.append(raw.post("/payment/v1/card-payments",
                           s.raw_payment_body(card={"cardNumber": "5258640000000002"})).text)
    bodies.append(raw.post("/payment/v1/card-payments",
                           s.raw_payment_body(card={"cardNumber": s.BONUS_CARD, "cvc": "1x"})).text)
    bodies.append(raw.get(f"/payment/v1/card-payments/{payment_id}").text)
    bodies.append(raw.get(f"/payment-reporting/v1/payments/{payment_id}").text)
    bodies.append(raw.get("/payment-reporting/v1/payments?size=100").text)
    bodies.append(raw.get(f"/payment-reporting/v1/payments/{payment_id}/transactions").text)
    for body in bodies:
        for pan in pans:
            assert pan not in body, f"card number {pan} in response: {body[:500]}"
    # The payment does keep the masked parts.
    data = h.data_of(raw.get(f"/payment/v1/card-payments/{payment_id}"))
    assert data["binNumber"] == "525864" and data["lastFourDigits"] == "0001"


def test_duplicate_bank_order_id_is_refused_before_the_bank(client, sim, make_sim_pos):
    pos = make_sim_pos()
    bank_order_id = h.uid("BO").replace("-", "").upper()
    first = s.payment_request(pos_alias=pos.alias)
    first.bank_order_id = bank_order_id
    payment = client.payment().create_payment(first)
    assert payment.order_id == bank_order_id
    second = s.payment_request(pos_alias=pos.alias)
    second.bank_order_id = bank_order_id
    s.expect_error(lambda: client.payment().create_payment(second), status=400)
    assert len(sim.orders(pos.client_id)) == 1


def test_concurrent_post_auths_capture_once(server, sandbox_keys, client, sim, make_sim_pos):
    import threading

    pos = make_sim_pos()
    pre = client.payment().create_payment(
        s.payment_request(price="90", pos_alias=pos.alias, phase=PaymentPhase.PRE_AUTH))
    results = []
    barrier = threading.Barrier(5)

    def capture():
        own = s.sdk_client(server.base_url, sandbox_keys["apiKey"], sandbox_keys["secretKey"])
        barrier.wait(timeout=30)
        try:
            r = own.payment().post_auth_payment(pre.id, PostAuthPaymentRequest(paid_price=Decimal("50")))
            results.append(("ok", s.enum_value(r.payment_phase)))
        except Exception as e:
            results.append(("error", h.last_status()))

    threads = [threading.Thread(target=capture) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results.count(("ok", "POST_AUTH")) == 1, results
    assert all(r[1] in (409, 422) for r in results if r[0] == "error"), results
    order = sim.order(pos.client_id, pre.order_id)
    assert order["capturedMinor"] == 5000
    assert len([t for t in order["transactions"] if t["type"] == "PostAuth"]) == 1


def test_payment_with_buyer_member(client, isbank_alias):
    from test_members import new_member

    member = new_member(client)
    payment = client.payment().create_payment(s.payment_request(pos_alias=isbank_alias, buyer_member_id=member.id))
    assert payment.buyer_member_id == member.id
    found = client.payment_reporting().search_payments(SearchPaymentsRequest(buyer_member_id=member.id))
    assert [p.id for p in found.items] == [payment.id]
    s.expect_error(lambda: client.payment().create_payment(s.payment_request(buyer_member_id=987654321)),
                   status=400)


def test_response_datetimes_are_local_without_zone(raw, isbank_alias):
    """Java and Go clients parse `yyyy-MM-ddTHH:mm:ss` only (reference §1.4)."""
    import re

    data = h.data_of(raw.post("/payment/v1/card-payments", s.raw_payment_body(posAlias=isbank_alias)))
    pattern = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")
    assert pattern.match(data["createdDate"]), data["createdDate"]
    for t in data["paymentTransactions"]:
        if t.get("blockageResolvedDate") is not None:
            assert pattern.match(t["blockageResolvedDate"]), t["blockageResolvedDate"]
