"""Refunds and cancels through the SDK, checked against the simulated bank's books."""

import threading

import pytest
from decimal import Decimal

from craftgate.exception.api_exception import CraftgateException
from craftgate.model.payment_phase import PaymentPhase
from craftgate.request.post_auth_payment_request import PostAuthPaymentRequest
from craftgate.request.refund_payment_request import RefundPaymentRequest
from craftgate.request.refund_payment_transaction_request import RefundPaymentTransactionRequest

import orkestra_harness as h
import sdk_helpers as s
from conftest import SANDBOX_ISBANK_CLIENT_ID


def pay(client, pos_alias, price="100", items=None, phase=PaymentPhase.AUTH):
    payment = client.payment().create_payment(
        s.payment_request(price=price, items=items, pos_alias=pos_alias, phase=phase)
    )
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    return payment


def test_same_day_full_refund_is_a_cancel(client, sim, isbank_alias):
    payment = pay(client, isbank_alias, price="120.75", items=["20.75", "100"])
    conversation_id = h.uid("cancel")
    refund = client.payment().refund_payment(
        RefundPaymentRequest(payment_id=payment.id, conversation_id=conversation_id)
    )
    assert h.last_status() == 200
    assert s.enum_value(refund.refund_type) == "CANCEL"
    assert s.enum_value(refund.status) == "SUCCESS"
    assert refund.id and refund.payment_id == payment.id
    assert refund.refund_price == Decimal("120.75")
    assert refund.conversation_id == conversation_id
    assert refund.payment_transaction_refunds == []

    order = sim.order(SANDBOX_ISBANK_CLIENT_ID, payment.order_id)
    assert order["voided"] is True
    assert [t["type"] for t in order["transactions"] if t["approved"]] == ["Auth", "Void"]

    fetched = client.payment().retrieve_payment_refund(refund.id)
    assert fetched.id == refund.id
    assert s.enum_value(fetched.refund_type) == "CANCEL"
    assert s.enum_value(fetched.status) == "SUCCESS"
    assert fetched.refund_price == Decimal("120.75")

    listed = client.payment_reporting().retrieve_payment_refunds(payment.id)
    assert [r.id for r in listed.items] == [refund.id]
    report = client.payment_reporting().retrieve_payment(payment.id)
    assert s.enum_value(report.refund_status) == "FULLY_REFUNDED"
    assert Decimal(str(report.refundable_price)) == 0

    # Cancelled is final: no second refund, no partial refund.
    s.expect_error(lambda: client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id)))
    assert h.last_status() in (400, 422)
    s.expect_error(
        lambda: client.payment().refund_payment_transaction(
            RefundPaymentTransactionRequest(
                payment_transaction_id=payment.payment_transactions[0].id, refund_price=Decimal("1")
            )
        )
    )
    assert h.last_status() in (400, 422)
    assert len([t for t in sim.order(SANDBOX_ISBANK_CLIENT_ID, payment.order_id)["transactions"]
                if t["type"] == "Void"]) == 1


def test_pre_auth_cancel(client, sim, isbank_alias):
    pre = pay(client, isbank_alias, price="75", phase=PaymentPhase.PRE_AUTH)
    refund = client.payment().refund_payment(RefundPaymentRequest(payment_id=pre.id))
    assert s.enum_value(refund.refund_type) == "CANCEL"
    assert s.enum_value(refund.status) == "SUCCESS"
    order = sim.order(SANDBOX_ISBANK_CLIENT_ID, pre.order_id)
    assert order["voided"] is True and order["capturedMinor"] == 0
    # A cancelled pre-authorisation cannot be captured any more.
    s.expect_error(lambda: client.payment().post_auth_payment(pre.id, PostAuthPaymentRequest()))
    assert h.last_status() in (400, 422)
    assert sim.order(SANDBOX_ISBANK_CLIENT_ID, pre.order_id)["capturedMinor"] == 0


def test_partial_refund_needs_settlement_then_succeeds(client, sim, make_sim_pos):
    pos = make_sim_pos()
    payment = pay(client, pos.alias, price="100", items=["30", "70"])
    item = payment.payment_transactions[0]
    request = RefundPaymentTransactionRequest(
        payment_transaction_id=item.id, refund_price=Decimal("12.50"), conversation_id=h.uid("rtx")
    )
    # Before end of day the bank refuses credits.
    s.expect_error(lambda: client.payment().refund_payment_transaction(request), status=422)
    assert sim.order(pos.client_id, payment.order_id)["refundedMinor"] == 0

    assert sim.settle(pos.client_id) >= 1
    refund_tx = client.payment().refund_payment_transaction(request)
    assert h.last_status() == 200
    assert s.enum_value(refund_tx.status) == "SUCCESS"
    assert refund_tx.refund_price == Decimal("12.50")
    assert refund_tx.payment_transaction_id == item.id
    assert refund_tx.payment_id == payment.id
    assert refund_tx.is_after_settlement is True

    order = sim.order(pos.client_id, payment.order_id)
    assert order["refundedMinor"] == 1250
    credits = [t for t in order["transactions"] if t["type"] == "Credit" and t["approved"]]
    assert [c["amountMinor"] for c in credits] == [1250]

    fetched = client.payment().retrieve_payment_transaction_refund(refund_tx.id)
    assert fetched.id == refund_tx.id
    assert s.enum_value(fetched.status) == "SUCCESS"
    assert fetched.refund_price == Decimal("12.50")
    assert fetched.payment_transaction_id == item.id

    transactions = client.payment_reporting().retrieve_payment_transactions(payment.id)
    by_id = {t.id: t for t in transactions.items}
    assert Decimal(str(by_id[item.id].refundable_price)) == Decimal("17.50")
    assert Decimal(str(by_id[payment.payment_transactions[1].id].refundable_price)) == Decimal("70")
    refunds = client.payment_reporting().retrieve_payment_refunds(payment.id)
    successful = [r for r in refunds.items if s.enum_value(r.status) == "SUCCESS"]
    assert len(successful) == 1 and Decimal(str(successful[0].refund_price)) == Decimal("12.50")
    report = client.payment_reporting().retrieve_payment(payment.id)
    assert s.enum_value(report.refund_status) == "PARTIAL_REFUNDED"
    assert Decimal(str(report.refundable_price)) == Decimal("87.50")

    # After a partial refund, a full refund is a REFUND (credit) of what is left.
    rest = client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id))
    assert s.enum_value(rest.refund_type) == "REFUND"
    assert s.enum_value(rest.status) == "SUCCESS"
    assert rest.refund_price == Decimal("87.50")
    assert sum(Decimal(str(t.refund_price)) for t in rest.payment_transaction_refunds) == Decimal("87.50")
    assert sim.order(pos.client_id, payment.order_id)["refundedMinor"] == 10000
    assert s.enum_value(client.payment_reporting().retrieve_payment(payment.id).refund_status) == "FULLY_REFUNDED"
    s.expect_error(lambda: client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id)))
    assert h.last_status() in (400, 422)


def test_refund_more_than_captured_is_422(client, sim, make_sim_pos):
    pos = make_sim_pos()
    payment = pay(client, pos.alias, price="100", items=["40", "60"])
    sim.settle(pos.client_id)
    item = payment.payment_transactions[0]
    s.expect_error(
        lambda: client.payment().refund_payment_transaction(
            RefundPaymentTransactionRequest(payment_transaction_id=item.id, refund_price=Decimal("40.01"))
        ),
        status=422,
    )
    client.payment().refund_payment_transaction(
        RefundPaymentTransactionRequest(payment_transaction_id=item.id, refund_price=Decimal("30"))
    )
    s.expect_error(
        lambda: client.payment().refund_payment_transaction(
            RefundPaymentTransactionRequest(payment_transaction_id=item.id, refund_price=Decimal("10.01"))
        ),
        status=422,
    )
    ok = client.payment().refund_payment_transaction(
        RefundPaymentTransactionRequest(payment_transaction_id=item.id, refund_price=Decimal("10"))
    )
    assert s.enum_value(ok.status) == "SUCCESS"
    assert sim.order(pos.client_id, payment.order_id)["refundedMinor"] == 4000


def test_refund_validation(client, raw, make_sim_pos, sim):
    pos = make_sim_pos()
    payment = pay(client, pos.alias)
    sim.settle(pos.client_id)
    item_id = payment.payment_transactions[0].id
    for price in (0, -5, 1.001):
        h.errors_of(raw.post("/payment/v1/refund-transactions",
                             {"paymentTransactionId": item_id, "refundPrice": price}), 400)
    h.errors_of(raw.post("/payment/v1/refund-transactions", {"paymentTransactionId": item_id}), 400)
    h.errors_of(raw.post("/payment/v1/refunds", {}), 400)
    h.errors_of(raw.post("/payment/v1/refunds", {"paymentId": payment.id,
                                                 "refundDestinationType": "MOON"}), 400)
    h.errors_of(raw.post("/payment/v1/refund-transactions",
                         {"paymentTransactionId": 987654321, "refundPrice": 1}), 404)
    h.errors_of(raw.post("/payment/v1/refunds", {"paymentId": 987654321}), 404)
    s.expect_error(lambda: client.payment().retrieve_payment_refund(987654321), status=404)
    s.expect_error(lambda: client.payment().retrieve_payment_transaction_refund(987654321), status=404)
    assert sim.order(pos.client_id, payment.order_id)["refundedMinor"] == 0


def test_concurrent_partial_refunds_never_exceed_captured(server, sandbox_keys, client, sim, make_sim_pos):
    pos = make_sim_pos()
    payment = pay(client, pos.alias, price="100")
    item_id = payment.payment_transactions[0].id
    sim.settle(pos.client_id)

    threads_n, each = 10, Decimal("15")
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads_n)

    def refund_once(i):
        own = s.sdk_client(server.base_url, sandbox_keys["apiKey"], sandbox_keys["secretKey"])
        barrier.wait(timeout=30)
        try:
            r = own.payment().refund_payment_transaction(
                RefundPaymentTransactionRequest(
                    payment_transaction_id=item_id, refund_price=each, conversation_id=f"conc-{i}"
                )
            )
            outcome = ("ok", s.enum_value(r.status), h.last_status(), r.id)
        except CraftgateException as e:
            outcome = ("error", e.error_code, h.last_status(), e.error_description)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=refund_once, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == threads_n, results

    succeeded = [r for r in results if r[0] == "ok" and r[1] == "SUCCESS"]
    refused = [r for r in results if r[0] == "error"]
    for r in refused:
        assert r[2] in (409, 422), f"refusal must be 409/422, got {r}"
    refunded = each * len(succeeded)
    assert refunded <= Decimal("100"), results
    # 6 x 15 = 90 fits; a 7th would exceed 100.
    assert len(succeeded) == 6, results

    order = sim.order(pos.client_id, payment.order_id)
    assert order["refundedMinor"] == s.minor(refunded) <= order["capturedMinor"]
    assert sum(t["amountMinor"] for t in order["transactions"]
               if t["type"] == "Credit" and t["approved"]) == s.minor(refunded)

    report = client.payment_reporting().retrieve_payment(payment.id)
    assert Decimal(str(report.refundable_price)) == Decimal("100") - refunded
    ok_refunds = [r for r in report.refunds if s.enum_value(r.status) == "SUCCESS"]
    assert sum(Decimal(str(r.refund_price)) for r in ok_refunds) == refunded
    transactions = client.payment_reporting().retrieve_payment_transactions(payment.id)
    assert Decimal(str(transactions.items[0].refundable_price)) == Decimal("100") - refunded


def test_concurrent_full_refunds_cancel_once(server, sandbox_keys, client, sim, isbank_alias):
    payment = pay(client, isbank_alias, price="64")
    results = []
    barrier = threading.Barrier(5)

    def refund_once():
        own = s.sdk_client(server.base_url, sandbox_keys["apiKey"], sandbox_keys["secretKey"])
        barrier.wait(timeout=30)
        try:
            r = own.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id))
            results.append(("ok", s.enum_value(r.status)))
        except CraftgateException as e:
            results.append(("error", h.last_status()))

    threads = [threading.Thread(target=refund_once) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results.count(("ok", "SUCCESS")) == 1, results
    assert all(r[1] in (409, 422) for r in results if r[0] == "error"), results
    order = sim.order(SANDBOX_ISBANK_CLIENT_ID, payment.order_id)
    assert len([t for t in order["transactions"] if t["type"] == "Void" and t["approved"]]) == 1


def test_cancel_still_works_after_the_pos_is_deleted(client, sim, make_sim_pos):
    from craftgate.request.delete_merchant_pos_request import DeleteMerchantPosRequest

    pos = make_sim_pos()
    payment = pay(client, pos.alias)
    client.merchant().delete_merchant_pos(DeleteMerchantPosRequest(merchant_pos_id=pos.id))
    assert client.payment().retrieve_payment(payment.id).pos.alias == pos.alias
    refund = client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id))
    assert s.enum_value(refund.refund_type) == "CANCEL" and s.enum_value(refund.status) == "SUCCESS"
    assert sim.order(pos.client_id, payment.order_id)["voided"] is True


def test_refund_only_pos_refunds_but_takes_no_payments(client, sim, make_sim_pos):
    from craftgate.model.pos_status import PosStatus
    from craftgate.request.update_merchant_pos_status_request import UpdateMerchantPosStatusRequest

    pos = make_sim_pos()
    payment = pay(client, pos.alias)
    client.merchant().update_merchant_pos_status(
        UpdateMerchantPosStatusRequest(merchant_pos_id=pos.id, pos_status=PosStatus.REFUND_ONLY))
    s.expect_error(lambda: client.payment().create_payment(s.payment_request(pos_alias=pos.alias)), status=400)
    refund = client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id))
    assert s.enum_value(refund.status) == "SUCCESS"
    assert len(sim.orders(pos.client_id)) == 1


def partially_captured(client, pos, price="300", items=("100", "200"), capture="180"):
    pre = client.payment().create_payment(
        s.payment_request(price=price, items=list(items), pos_alias=pos.alias, phase=PaymentPhase.PRE_AUTH))
    post = client.payment().post_auth_payment(pre.id, PostAuthPaymentRequest(paid_price=Decimal(capture)))
    assert s.enum_value(post.payment_phase) == "POST_AUTH" and post.paid_price == Decimal(capture)
    return post


def test_partially_captured_payment_transactions_add_up_to_the_capture(client, make_sim_pos):
    """After a post-auth of 180 on a 300 pre-auth, the payment's paidPrice is 180; its
    transactions' paidPrice (and refundablePrice) must add up to the same 180."""
    post = partially_captured(client, make_sim_pos())
    paid = [Decimal(str(t.paid_price)) for t in post.payment_transactions]
    assert sum(paid) == Decimal("180"), f"transactions paidPrice {paid} vs payment paidPrice 180"
    transactions = client.payment_reporting().retrieve_payment_transactions(post.id)
    refundable = [Decimal(str(t.refundable_price)) for t in transactions.items]
    assert sum(refundable) == Decimal("180"), f"transactions refundablePrice {refundable}"
    report = client.payment_reporting().retrieve_payment(post.id)
    assert Decimal(str(report.refundable_price)) == Decimal("180")


def test_partially_captured_payment_can_be_cancelled_same_day(client, sim, make_sim_pos):
    pos = make_sim_pos()
    post = partially_captured(client, pos)
    refund = client.payment().refund_payment(RefundPaymentRequest(payment_id=post.id))
    assert s.enum_value(refund.status) == "SUCCESS"
    assert s.enum_value(refund.refund_type) == "CANCEL"
    assert sim.order(pos.client_id, post.order_id)["voided"] is True


def test_partially_captured_payment_can_be_fully_refunded_after_settlement(client, sim, make_sim_pos):
    pos = make_sim_pos()
    post = partially_captured(client, pos)
    sim.settle(pos.client_id)
    # Refund a part first, so the full refund is a credit of the rest whatever the day.
    client.payment().refund_payment_transaction(RefundPaymentTransactionRequest(
        payment_transaction_id=post.payment_transactions[0].id, refund_price=Decimal("10")))
    refund = client.payment().refund_payment(RefundPaymentRequest(payment_id=post.id))
    assert s.enum_value(refund.status) == "SUCCESS"
    assert s.enum_value(refund.refund_type) == "REFUND"
    assert refund.refund_price == Decimal("170")
    order = sim.order(pos.client_id, post.order_id)
    assert order["refundedMinor"] == order["capturedMinor"] == 18000


def test_partially_captured_refunds_never_exceed_the_capture(client, sim, make_sim_pos):
    pos = make_sim_pos()
    post = partially_captured(client, pos)
    sim.settle(pos.client_id)
    # A smaller capture is shared by the items in proportion to their prices: 60 + 120.
    first, second = post.payment_transactions
    assert (first.paid_price, second.paid_price) == (Decimal("60"), Decimal("120"))
    client.payment().refund_payment_transaction(
        RefundPaymentTransactionRequest(payment_transaction_id=first.id, refund_price=Decimal("60")))
    s.expect_error(lambda: client.payment().refund_payment_transaction(
        RefundPaymentTransactionRequest(payment_transaction_id=second.id, refund_price=Decimal("120.01"))),
        status=422)
    ok = client.payment().refund_payment_transaction(
        RefundPaymentTransactionRequest(payment_transaction_id=second.id, refund_price=Decimal("120")))
    assert s.enum_value(ok.status) == "SUCCESS"
    assert sim.order(pos.client_id, post.order_id)["refundedMinor"] == 18000


def test_full_refund_after_same_day_settlement(client, sim, make_sim_pos):
    pos = make_sim_pos()
    payment = pay(client, pos.alias)
    sim.settle(pos.client_id)
    refund = client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id))
    assert s.enum_value(refund.status) == "SUCCESS"
    assert sim.order(pos.client_id, payment.order_id)["refundedMinor"] == 10000
