"""Unknown bank outcomes: the simulator breaks the connection or the answer, the payment
is answered WAITING (HTTP 202), and the status inquiry settles it with the bank's truth.

These tests run their own sandbox server with `--bank-timeout-secs 2` (the engine only
believes a bank's "no such order" after twice the bank timeout, so a short timeout keeps
the failure cases quick). Three technical failures in a row take a POS out of rotation
for a while, so apart from the sandbox İşbank POS tests each test uses a fresh POS with its
own simulator store.
"""

import time
from decimal import Decimal

import pytest
from craftgate.exception.api_exception import CraftgateException
from craftgate.request.refund_payment_request import RefundPaymentRequest
from craftgate.request.refund_payment_transaction_request import RefundPaymentTransactionRequest
from craftgate.request.search_payments_request import SearchPaymentsRequest

import orkestra_harness as h
import sdk_helpers as s
from conftest import SANDBOX_ISBANK_CLIENT_ID, SandboxEnv, sandbox_server

BANK_TIMEOUT_SECS = 2
RESOLVE_SECS = 25


@pytest.fixture(scope="module")
def env(tmp_path_factory, db_kind):
    with sandbox_server(tmp_path_factory, db_kind, "recovery", bank_timeout_secs=BANK_TIMEOUT_SECS) as srv:
        yield SandboxEnv(srv)


def final_status(client, payment_id, timeout=RESOLVE_SECS):
    def settled():
        p = client.payment().retrieve_payment(payment_id)
        return p if s.enum_value(p.payment_status) in ("SUCCESS", "FAILURE") else None

    return h.wait_until(settled, timeout, interval=0.25, message=f"payment {payment_id} to settle")


def find_by_conversation(client, conversation_id):
    found = client.payment_reporting().search_payments(SearchPaymentsRequest(conversation_id=conversation_id))
    assert found.total_size == 1, f"expected one payment for {conversation_id}, got {found.total_size}"
    return found.items[0]


def order_ids(sim, client_id):
    return {o["orderId"] for o in sim.orders(client_id)}


def new_orders(sim, client_id, before):
    return [o for o in sim.orders(client_id) if o["orderId"] not in before]


def test_drop_after_is_waiting_then_success(env):
    """The bank charged but the answer was lost (and the first inquiry's too)."""
    client, sim = env.client, env.sim
    before = order_ids(sim, SANDBOX_ISBANK_CLIENT_ID)
    sim.fault(SANDBOX_ISBANK_CLIENT_ID, "drop_after", count=2)
    started = time.monotonic()
    payment = client.payment().create_payment(s.payment_request(price="77.70", pos_alias=env.isbank_alias))
    assert h.last_status() == 202
    assert s.enum_value(payment.payment_status) == "WAITING"
    assert payment.id
    assert time.monotonic() - started < BANK_TIMEOUT_SECS + 3

    done = final_status(client, payment.id, timeout=15)
    assert s.enum_value(done.payment_status) == "SUCCESS"
    assert done.order_id and done.auth_code
    orders = new_orders(sim, SANDBOX_ISBANK_CLIENT_ID, before)
    assert len(orders) == 1, orders
    assert orders[0]["orderId"] == done.order_id
    assert orders[0]["amountMinor"] == 7770
    assert len([t for t in orders[0]["transactions"] if t["type"] == "Auth"]) == 1
    # The recovered payment is a normal payment: it can be cancelled.
    refund = client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id))
    assert s.enum_value(refund.refund_type) == "CANCEL"
    assert sim.order(SANDBOX_ISBANK_CLIENT_ID, done.order_id)["voided"] is True


def test_drop_after_single_fault_ends_success(env):
    """Only the sale's answer is lost: the immediate inquiry may settle it at once."""
    client, sim = env.client, env.sim
    before = order_ids(sim, SANDBOX_ISBANK_CLIENT_ID)
    sim.fault(SANDBOX_ISBANK_CLIENT_ID, "drop_after", count=1)
    payment = client.payment().create_payment(s.payment_request(price="12.30", pos_alias=env.isbank_alias))
    assert h.last_status() in (200, 202)
    assert s.enum_value(payment.payment_status) in ("SUCCESS", "WAITING")
    done = final_status(client, payment.id)
    assert s.enum_value(done.payment_status) == "SUCCESS"
    assert len(new_orders(sim, SANDBOX_ISBANK_CLIENT_ID, before)) == 1


@pytest.mark.parametrize("mode", ["drop_before", "http500", "malformed", "html"])
def test_unprocessed_request_is_waiting_then_failure(env, mode):
    """The bank never processed the order: the inquiry finds nothing, the payment fails."""
    client, sim = env.client, env.sim
    pos = env.make_sim_pos()
    sim.fault(pos.client_id, mode, count=2)
    payment = client.payment().create_payment(s.payment_request(price="55.50", pos_alias=pos.alias))
    assert h.last_status() == 202, f"{mode}: expected 202 WAITING, got {h.last_status()}"
    assert s.enum_value(payment.payment_status) == "WAITING"
    done = final_status(client, payment.id)
    assert s.enum_value(done.payment_status) == "FAILURE"
    assert done.payment_error is not None and done.payment_error.error_group
    assert sim.orders(pos.client_id) == []
    # A failed payment is not refundable.
    s.expect_error(lambda: client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id)))
    assert h.last_status() in (400, 422)


def test_drop_before_single_fault_ends_failure(env):
    """One lost request, then inquiries that answer "no such order": FAILURE."""
    client, sim = env.client, env.sim
    pos = env.make_sim_pos()
    conversation_id = h.uid("drop-before")
    sim.fault(pos.client_id, "drop_before", count=1)
    try:
        payment = client.payment().create_payment(
            s.payment_request(pos_alias=pos.alias, conversation_id=conversation_id))
        assert h.last_status() == 202 and s.enum_value(payment.payment_status) == "WAITING"
    except CraftgateException as e:
        assert h.last_status() == 422, (h.last_status(), e)
    payment = find_by_conversation(client, conversation_id)
    done = final_status(client, payment.id)
    assert s.enum_value(done.payment_status) == "FAILURE"
    assert sim.orders(pos.client_id) == []


def test_bank_slower_than_timeout_ends_success(env):
    """The bank answers after Orkestra's bank timeout: it charged, so the payment succeeds."""
    client, sim = env.client, env.sim
    pos = env.make_sim_pos()
    sim.fault(pos.client_id, "delay", count=1, delay_ms=(BANK_TIMEOUT_SECS + 2) * 1000)
    started = time.monotonic()
    payment = client.payment().create_payment(s.payment_request(price="66.60", pos_alias=pos.alias))
    elapsed = time.monotonic() - started
    assert elapsed < BANK_TIMEOUT_SECS + 3, f"the bank timeout was not applied ({elapsed:.1f}s)"
    assert h.last_status() in (200, 202)
    done = final_status(client, payment.id)
    assert s.enum_value(done.payment_status) == "SUCCESS"
    orders = sim.orders(pos.client_id)
    assert len(orders) == 1 and orders[0]["amountMinor"] == 6660


def test_waiting_payment_cannot_be_refunded_yet(env):
    client, sim = env.client, env.sim
    pos = env.make_sim_pos()
    sim.fault(pos.client_id, "drop_after", count=2)
    payment = client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
    assert s.enum_value(payment.payment_status) == "WAITING"
    s.expect_error(lambda: client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id)))
    assert h.last_status() in (400, 409, 422)
    assert s.enum_value(final_status(client, payment.id).payment_status) == "SUCCESS"


def test_partial_refund_with_lost_answer_is_recovered(env):
    """A credit whose answer is lost is settled from the bank's order history, once."""
    client, sim = env.client, env.sim
    pos = env.make_sim_pos()
    payment = client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
    sim.settle(pos.client_id)
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

    report = h.wait_until(settled, RESOLVE_SECS, interval=0.25, message="refund to settle")
    ok = [r for r in report.refunds if s.enum_value(r.status) == "SUCCESS"]
    assert sum(Decimal(str(r.refund_price)) for r in ok) == Decimal("25"), report.refunds
    assert Decimal(str(report.refundable_price)) == Decimal("75")
    if refund_id:
        assert s.enum_value(client.payment().retrieve_payment_transaction_refund(refund_id).status) == "SUCCESS"
    # Nothing was credited twice.
    assert sim.order(pos.client_id, payment.order_id)["refundedMinor"] == 2500


def test_cancel_with_lost_answer_is_recovered(env):
    """A void whose answer is lost is proven by the order's state at the bank."""
    client, sim = env.client, env.sim
    pos = env.make_sim_pos()
    payment = client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
    sim.fault(pos.client_id, "drop_after", count=2)
    try:
        client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id))
    except CraftgateException:
        pass
    assert sim.order(pos.client_id, payment.order_id)["voided"] is True

    def settled():
        report = client.payment_reporting().retrieve_payment(payment.id)
        statuses = [s.enum_value(r.status) for r in report.refunds]
        return report if statuses and "WAITING" not in statuses else None

    report = h.wait_until(settled, RESOLVE_SECS, interval=0.25, message="cancel to settle")
    assert [s.enum_value(r.status) for r in report.refunds] == ["SUCCESS"]
    assert s.enum_value(report.refund_status) == "FULLY_REFUNDED"
    voids = [t for t in sim.order(pos.client_id, payment.order_id)["transactions"]
             if t["type"] == "Void" and t["approved"]]
    assert len(voids) == 1


def test_post_auth_with_lost_answer_is_recovered(env):
    """A capture whose answer is lost: the bank's order state says captured."""
    from craftgate.model.payment_phase import PaymentPhase
    from craftgate.request.post_auth_payment_request import PostAuthPaymentRequest

    client, sim = env.client, env.sim
    pos = env.make_sim_pos()
    pre = client.payment().create_payment(
        s.payment_request(price="80", pos_alias=pos.alias, phase=PaymentPhase.PRE_AUTH))
    sim.fault(pos.client_id, "drop_after", count=2)
    try:
        client.payment().post_auth_payment(pre.id, PostAuthPaymentRequest(paid_price=Decimal("60")))
    except CraftgateException:
        assert h.last_status() in (202, 409, 422, 504), h.last_status()
    assert sim.order(pos.client_id, pre.order_id)["capturedMinor"] == 6000

    def captured():
        p = client.payment().retrieve_payment(pre.id)
        return p if s.enum_value(p.payment_phase) == "POST_AUTH" else None

    done = h.wait_until(captured, RESOLVE_SECS, interval=0.25, message="capture to settle")
    assert done.paid_price == Decimal("60")
    assert s.enum_value(done.payment_status) == "SUCCESS"


def take_out_of_rotation(env, pos):
    """Three technical failures in a row (answers lost before the bank saw the order)."""
    for _ in range(3):
        env.sim.fault(pos.client_id, "drop_before", count=1)
        payment = env.client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
        assert s.enum_value(payment.payment_status) == "WAITING"


def test_requested_pos_out_of_rotation_is_named_in_the_error(env):
    """After repeated technical failures a POS rests (AUTOPILOT). A payment that names
    that POS with posAlias is refused; the error must say which POS and why, not that the
    merchant has no POS at all."""
    pos = env.make_sim_pos()
    take_out_of_rotation(env, pos)
    try:
        payment = env.client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
        assert s.enum_value(payment.payment_status) == "SUCCESS"  # honouring the alias is fine too
    except CraftgateException as e:
        assert h.last_status() in (400, 422), h.last_status()
        assert pos.alias in e.error_description, repr(e)


def test_pos_out_of_rotation_shows_in_autopilot_state(env):
    pos = env.make_sim_pos()
    take_out_of_rotation(env, pos)
    state = env.client.merchant().retrieve(pos.id).autopilot_state
    assert state.is_non_three_ds_up is False, state
    others = env.client.merchant().retrieve(env.poses[SANDBOX_ISBANK_CLIENT_ID].id).autopilot_state
    assert others.is_non_three_ds_up is True


def test_routing_skips_a_pos_out_of_rotation(env):
    """Without posAlias, payments go to the next POS while the first one rests."""
    first = env.make_sim_pos(order_number=0)
    take_out_of_rotation(env, first)
    payment = env.client.payment().create_payment(s.payment_request())
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.pos.alias != first.alias
    assert len(env.sim.orders(first.client_id)) == 0
