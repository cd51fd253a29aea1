"""Unknown bank outcomes: the simulator breaks the connection or the answer, the payment
is answered WAITING (HTTP 202), and the status inquiry settles it with the bank's truth."""

import time
from decimal import Decimal

import pytest
from craftgate.exception.api_exception import CraftgateException
from craftgate.request.search_payments_request import SearchPaymentsRequest

import orkestra_harness as h
import sdk_helpers as s
from conftest import SANDBOX_ISBANK_CLIENT_ID, SHARED_BANK_TIMEOUT_SECS

RESOLVE_SECS = 20


def final_status(client, payment_id, timeout=RESOLVE_SECS):
    def settled():
        p = client.payment().retrieve_payment(payment_id)
        return p if s.enum_value(p.payment_status) in ("SUCCESS", "FAILURE") else None

    return h.wait_until(settled, timeout, interval=0.5, message=f"payment {payment_id} to settle")


def find_by_conversation(client, conversation_id):
    found = client.payment_reporting().search_payments(SearchPaymentsRequest(conversation_id=conversation_id))
    assert found.total_size == 1, f"expected one payment for {conversation_id}, got {found.total_size}"
    return found.items[0]


def new_orders(sim, client_id, before):
    return [o for o in sim.orders(client_id) if o["orderId"] not in before]


def order_ids(sim, client_id):
    return {o["orderId"] for o in sim.orders(client_id)}


def test_drop_after_is_waiting_then_success(client, sim, isbank_alias):
    """The bank charged but the answer was lost (and the first inquiry too)."""
    before = order_ids(sim, SANDBOX_ISBANK_CLIENT_ID)
    sim.fault(SANDBOX_ISBANK_CLIENT_ID, "drop_after", count=2)
    started = time.monotonic()
    payment = client.payment().create_payment(s.payment_request(price="77.70", pos_alias=isbank_alias))
    assert h.last_status() == 202
    assert s.enum_value(payment.payment_status) == "WAITING"
    assert payment.id
    assert time.monotonic() - started < SHARED_BANK_TIMEOUT_SECS + 3

    done = final_status(client, payment.id)
    assert s.enum_value(done.payment_status) == "SUCCESS"
    assert done.order_id
    orders = new_orders(sim, SANDBOX_ISBANK_CLIENT_ID, before)
    assert len(orders) == 1, orders
    assert orders[0]["orderId"] == done.order_id
    assert orders[0]["amountMinor"] == 7770
    assert len([t for t in orders[0]["transactions"] if t["type"] == "Auth"]) == 1
    # The recovered payment is a normal payment: it can be cancelled.
    from craftgate.request.refund_payment_request import RefundPaymentRequest

    refund = client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id))
    assert s.enum_value(refund.refund_type) == "CANCEL"
    assert sim.order(SANDBOX_ISBANK_CLIENT_ID, done.order_id)["voided"] is True


def test_drop_after_single_fault_ends_success(client, sim, isbank_alias):
    """Only the sale's answer is lost: the immediate inquiry may settle it at once."""
    before = order_ids(sim, SANDBOX_ISBANK_CLIENT_ID)
    sim.fault(SANDBOX_ISBANK_CLIENT_ID, "drop_after", count=1)
    payment = client.payment().create_payment(s.payment_request(price="12.30", pos_alias=isbank_alias))
    assert h.last_status() in (200, 202)
    assert s.enum_value(payment.payment_status) in ("SUCCESS", "WAITING")
    done = final_status(client, payment.id)
    assert s.enum_value(done.payment_status) == "SUCCESS"
    assert len(new_orders(sim, SANDBOX_ISBANK_CLIENT_ID, before)) == 1


@pytest.mark.parametrize("mode", ["drop_before", "http500", "malformed", "html"])
def test_unprocessed_request_is_waiting_then_failure(client, sim, isbank_alias, mode):
    """The bank never processed the order: the inquiry finds nothing, the payment fails."""
    before = order_ids(sim, SANDBOX_ISBANK_CLIENT_ID)
    sim.fault(SANDBOX_ISBANK_CLIENT_ID, mode, count=2)
    payment = client.payment().create_payment(s.payment_request(price="55.50", pos_alias=isbank_alias))
    assert h.last_status() == 202, f"{mode}: expected 202 WAITING, got {h.last_status()}"
    assert s.enum_value(payment.payment_status) == "WAITING"
    done = final_status(client, payment.id)
    assert s.enum_value(done.payment_status) == "FAILURE"
    assert done.payment_error is not None
    assert new_orders(sim, SANDBOX_ISBANK_CLIENT_ID, before) == []
    # A failed payment is not refundable.
    from craftgate.request.refund_payment_request import RefundPaymentRequest

    s.expect_error(lambda: client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id)))


@pytest.mark.parametrize("mode", ["drop_before", "http500", "malformed"])
def test_unprocessed_request_single_fault_ends_failure(client, sim, isbank_alias, mode):
    """One lost request, then an inquiry that answers: FAILURE, reported or retrievable."""
    before = order_ids(sim, SANDBOX_ISBANK_CLIENT_ID)
    conversation_id = h.uid(mode)
    sim.fault(SANDBOX_ISBANK_CLIENT_ID, mode, count=1)
    try:
        payment = client.payment().create_payment(
            s.payment_request(pos_alias=isbank_alias, conversation_id=conversation_id))
        assert h.last_status() == 202 and s.enum_value(payment.payment_status) == "WAITING"
    except CraftgateException as e:
        assert h.last_status() == 422, (h.last_status(), e)
        assert e.error_group
    payment = find_by_conversation(client, conversation_id)
    done = final_status(client, payment.id)
    assert s.enum_value(done.payment_status) == "FAILURE"
    assert new_orders(sim, SANDBOX_ISBANK_CLIENT_ID, before) == []


def test_bank_slower_than_timeout_ends_success(client, sim, isbank_alias):
    """The bank answers after Orkestra's bank timeout: charged, so the payment succeeds."""
    before = order_ids(sim, SANDBOX_ISBANK_CLIENT_ID)
    sim.fault(SANDBOX_ISBANK_CLIENT_ID, "delay", count=1, delay_ms=(SHARED_BANK_TIMEOUT_SECS + 2) * 1000)
    started = time.monotonic()
    payment = client.payment().create_payment(s.payment_request(price="66.60", pos_alias=isbank_alias))
    elapsed = time.monotonic() - started
    assert elapsed < SHARED_BANK_TIMEOUT_SECS + 4, f"the bank timeout was not applied ({elapsed:.1f}s)"
    assert h.last_status() in (200, 202)
    done = final_status(client, payment.id)
    assert s.enum_value(done.payment_status) == "SUCCESS"
    orders = new_orders(sim, SANDBOX_ISBANK_CLIENT_ID, before)
    assert len(orders) == 1 and orders[0]["amountMinor"] == 6660


def test_waiting_payment_cannot_be_refunded_yet(client, sim, isbank_alias):
    sim.fault(SANDBOX_ISBANK_CLIENT_ID, "drop_after", count=2)
    payment = client.payment().create_payment(s.payment_request(pos_alias=isbank_alias))
    assert s.enum_value(payment.payment_status) == "WAITING"
    from craftgate.request.refund_payment_request import RefundPaymentRequest

    s.expect_error(lambda: client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id)))
    assert h.last_status() in (400, 409, 422)
    final_status(client, payment.id)


def test_partial_refund_with_lost_answer_is_recovered(client, sim, make_sim_pos):
    """A credit whose answer is lost is settled by the bank's order history, once."""
    pos = make_sim_pos()
    payment = client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
    sim.settle(pos.client_id)
    from craftgate.request.refund_payment_transaction_request import RefundPaymentTransactionRequest

    sim.fault(pos.client_id, "drop_after", count=2)
    item_id = payment.payment_transactions[0].id
    try:
        refund = client.payment().refund_payment_transaction(
            RefundPaymentTransactionRequest(payment_transaction_id=item_id, refund_price=Decimal("25")))
        refund_id = refund.id
    except CraftgateException:
        refund_id = None
    assert sim.order(pos.client_id, payment.order_id)["refundedMinor"] == 2500

    def settled():
        report = client.payment_reporting().retrieve_payment(payment.id)
        statuses = [s.enum_value(r.status) for r in report.refunds]
        return report if statuses and "WAITING" not in statuses else None

    report = h.wait_until(settled, RESOLVE_SECS, interval=0.5, message="refund to settle")
    ok = [r for r in report.refunds if s.enum_value(r.status) == "SUCCESS"]
    assert sum(Decimal(str(r.refund_price)) for r in ok) == Decimal("25"), report.refunds
    assert Decimal(str(report.refundable_price)) == Decimal("75")
    if refund_id:
        assert s.enum_value(client.payment().retrieve_payment_transaction_refund(refund_id).status) == "SUCCESS"
    # Nothing was credited twice.
    assert sim.order(pos.client_id, payment.order_id)["refundedMinor"] == 2500
