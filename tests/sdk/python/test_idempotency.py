"""x-idempotency-key through the SDK's HeaderOptions: one charge per key."""

import threading
from decimal import Decimal

from craftgate.exception.api_exception import CraftgateException
from craftgate.request.common.header_options import HeaderOptions
from craftgate.request.refund_payment_transaction_request import RefundPaymentTransactionRequest
from craftgate.request.search_payments_request import SearchPaymentsRequest

import orkestra_harness as h
import sdk_helpers as s


def keyed(request, key):
    return request.with_header_options(HeaderOptions(idempotency_key=key))


def test_same_key_twice_charges_once(client, sim, make_sim_pos):
    pos = make_sim_pos()
    key = h.uid("idem")
    conversation_id = h.uid("conv")
    request = keyed(s.payment_request(pos_alias=pos.alias, conversation_id=conversation_id), key)
    first = client.payment().create_payment(request)
    assert h.last_response().request.headers.get("x-idempotency-key") == key
    second = client.payment().create_payment(request)
    assert h.last_status() == 200
    assert second.id == first.id
    assert second.order_id == first.order_id
    assert s.enum_value(second.payment_status) == "SUCCESS"
    orders = sim.orders(pos.client_id)
    assert len(orders) == 1, orders
    assert client.payment_reporting().search_payments(
        SearchPaymentsRequest(conversation_id=conversation_id)).total_size == 1


def test_same_key_different_body_is_400(client, sim, make_sim_pos):
    pos = make_sim_pos()
    key = h.uid("idem")
    conversation_id = h.uid("conv")
    client.payment().create_payment(
        keyed(s.payment_request(price="10", pos_alias=pos.alias, conversation_id=conversation_id), key))
    s.expect_error(
        lambda: client.payment().create_payment(
            keyed(s.payment_request(price="11", pos_alias=pos.alias, conversation_id=conversation_id), key)),
        status=400,
    )
    assert len(sim.orders(pos.client_id)) == 1


def test_different_keys_are_different_payments(client, sim, make_sim_pos):
    pos = make_sim_pos()
    request_body = dict(pos_alias=pos.alias, conversation_id=h.uid("conv"))
    a = client.payment().create_payment(keyed(s.payment_request(**request_body), h.uid("k")))
    b = client.payment().create_payment(keyed(s.payment_request(**request_body), h.uid("k")))
    assert a.id != b.id
    assert len(sim.orders(pos.client_id)) == 2


def test_concurrent_requests_with_one_key_make_one_payment(server, sandbox_keys, client, sim, make_sim_pos):
    pos = make_sim_pos()
    key = h.uid("idem")
    conversation_id = h.uid("conv")
    template = s.payment_request(pos_alias=pos.alias, conversation_id=conversation_id)
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(5)

    def attempt():
        own = s.sdk_client(server.base_url, sandbox_keys["apiKey"], sandbox_keys["secretKey"])
        barrier.wait(timeout=30)
        try:
            payment = own.payment().create_payment(keyed(template, key))
            outcome = ("ok", payment.id, s.enum_value(payment.payment_status), h.last_status())
        except CraftgateException as e:
            outcome = ("error", e.error_code, h.last_status(), e.error_description)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 5
    assert all(r[0] == "ok" for r in results), results
    assert len({r[1] for r in results}) == 1, results
    assert all(r[2] == "SUCCESS" for r in results), results
    assert len(sim.orders(pos.client_id)) == 1
    assert client.payment_reporting().search_payments(
        SearchPaymentsRequest(conversation_id=conversation_id)).total_size == 1


def test_decline_is_replayed_not_retried(client, sim, make_sim_pos):
    pos = make_sim_pos()
    key = h.uid("idem")
    request = s.payment_request(pos_alias=pos.alias, card_number="5101520000006662")
    for _ in range(2):
        s.expect_error(lambda: client.payment().create_payment(keyed(request, key)),
                       status=422, group="STOLEN_CARD")
    assert len(sim.orders(pos.client_id)) == 1


def test_replay_is_marked_and_keys_are_per_merchant(raw, second_raw, make_sim_pos, sim):
    pos = make_sim_pos()
    key = h.uid("idem")
    body = s.raw_payment_body(posAlias=pos.alias)
    first = raw.post("/payment/v1/card-payments", body, idempotency_key=key)
    again = raw.post("/payment/v1/card-payments", body, idempotency_key=key)
    assert h.data_of(first)["id"] == h.data_of(again)["id"]
    assert again.headers.get("x-idempotent-replay") == "true"
    # Another merchant using the same key is not answered with this merchant's payment.
    other = second_raw.post("/payment/v1/card-payments", body, idempotency_key=key)
    assert other.status_code == 400  # no such POS for that merchant
    assert str(h.data_of(first)["id"]) not in other.text
    assert len(sim.orders(pos.client_id)) == 1


def test_idempotent_partial_refund(client, sim, make_sim_pos):
    pos = make_sim_pos()
    payment = client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
    sim.settle(pos.client_id)
    key = h.uid("idem")
    request = RefundPaymentTransactionRequest(
        payment_transaction_id=payment.payment_transactions[0].id, refund_price=Decimal("5"))
    a = client.payment().refund_payment_transaction(keyed(request, key))
    b = client.payment().refund_payment_transaction(keyed(request, key))
    assert a.id == b.id
    assert sim.order(pos.client_id, payment.order_id)["refundedMinor"] == 500


def test_bad_idempotency_key_is_400(raw):
    h.errors_of(raw.post("/payment/v1/card-payments", s.raw_payment_body(), idempotency_key="k" * 300), 400)
