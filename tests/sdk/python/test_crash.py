"""kill -9 while a bank call is in flight, then restart on the same database.

The bank is a separate `orkestra sim` process, so it lives on when the server dies. After
the restart, the recovery task asks the bank and the payment ends in the bank's real
state, without a second charge.
"""

import threading
import time

import pytest
from craftgate.request.search_payments_request import SearchPaymentsRequest

import orkestra_harness as h
import sdk_helpers as s
from conftest import create_sim_pos

BANK_TIMEOUT_SECS = 2
ZIRAAT = dict(client_id="190100000", pos_username="ZIRAATAPI", pos_password="ZIRAAT19",
              threeds_key="123456", register_store=False)


@pytest.fixture(scope="module")
def crash_env(tmp_path_factory, db_kind):
    workdir = tmp_path_factory.mktemp("orkestra-crash")
    bank = h.SimProcess(workdir).start()
    db = h.Database(db_kind, workdir / "db")
    server = None
    try:
        keys = h.create_merchant(db, "Crash Test Merchant", workdir)
        server = h.OrkestraServer(db, workdir, name="crash", sandbox=False,
                                  bank_timeout_secs=BANK_TIMEOUT_SECS)
        server.start()
        sim = h.SimAdmin(bank.admin_url)
        client = s.sdk_client(server.base_url, keys["apiKey"], keys["secretKey"])
        pos = create_sim_pos(client, sim, bank.base_url, path="/nestpay/fim/api",
                             threeds_path="/nestpay/fim/est3Dgate", **ZIRAAT)
        yield dict(server=server, bank=bank, sim=sim, client=client, pos=pos)
    finally:
        if server is not None:
            server.stop()
        bank.stop()
        db.drop()


def start_payment_in_thread(client, request):
    outcome = {}

    def run():
        try:
            outcome["payment"] = client.payment().create_payment(request)
        except Exception as e:  # the server dies under it
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def payment_by_conversation(client, conversation_id):
    found = client.payment_reporting().search_payments(SearchPaymentsRequest(conversation_id=conversation_id))
    assert found.total_size == 1, found.total_size
    return found.items[0]


def wait_settled(client, payment_id, timeout=40):
    def settled():
        p = client.payment().retrieve_payment(payment_id)
        return p if s.enum_value(p.payment_status) in ("SUCCESS", "FAILURE") else None

    return h.wait_until(settled, timeout, interval=0.5, message=f"payment {payment_id} to settle")


def test_kill_during_bank_call_that_charges(crash_env, request):
    env = crash_env
    server, sim, client, pos = env["server"], env["sim"], env["client"], env["pos"]
    server.owner = request.node.nodeid
    if not server.alive():
        server.start()
    client_id = pos.client_id
    before = {o["orderId"] for o in sim.orders(client_id)}
    sim.fault(client_id, "delay", count=1, delay_ms=3000)
    conversation_id = h.uid("crash-ok")
    thread, outcome = start_payment_in_thread(
        client, s.payment_request(price="91.19", pos_alias=pos.alias, conversation_id=conversation_id))

    # The bank books the order, then sits on the answer: kill the server right then.
    h.wait_until(lambda: [o for o in sim.orders(client_id) if o["orderId"] not in before], 15,
                 interval=0.05, message="the bank to book the order")
    server.kill9()
    thread.join(timeout=30)
    assert "payment" not in outcome, "the client got an answer from a dead server?"

    server.start()  # same port, same database
    payment = payment_by_conversation(client, conversation_id)
    done = wait_settled(client, payment.id)
    assert s.enum_value(done.payment_status) == "SUCCESS"
    orders = [o for o in sim.orders(client_id) if o["orderId"] not in before]
    assert len(orders) == 1, orders
    assert orders[0]["orderId"] == done.order_id
    assert orders[0]["amountMinor"] == 9119
    assert len([t for t in orders[0]["transactions"] if t["type"] == "Auth"]) == 1
    # Still exactly one charge a little later (no retry charged again).
    time.sleep(1)
    assert len([o for o in sim.orders(client_id) if o["orderId"] not in before]) == 1


def test_kill_during_bank_call_that_never_arrives(crash_env, request):
    env = crash_env
    server, sim, client, pos = env["server"], env["sim"], env["client"], env["pos"]
    server.owner = request.node.nodeid
    if not server.alive():
        server.start()
    client_id = pos.client_id
    before = {o["orderId"] for o in sim.orders(client_id)}
    sim.fault(client_id, "drop_before", count=1, delay_ms=3000)
    conversation_id = h.uid("crash-fail")
    thread, outcome = start_payment_in_thread(
        client, s.payment_request(price="19.91", pos_alias=pos.alias, conversation_id=conversation_id))

    # The request reached the bank (its fault was taken) but will never be processed.
    h.wait_until(lambda: sim.pending_faults(client_id) == [], 15, interval=0.05,
                 message="the request to reach the bank")
    server.kill9()
    thread.join(timeout=30)
    assert "payment" not in outcome

    server.start()
    payment = payment_by_conversation(client, conversation_id)
    done = wait_settled(client, payment.id)
    assert s.enum_value(done.payment_status) == "FAILURE"
    assert [o for o in sim.orders(client_id) if o["orderId"] not in before] == []


def test_server_works_normally_after_crashes(crash_env, request):
    env = crash_env
    server, sim, client, pos = env["server"], env["sim"], env["client"], env["pos"]
    server.owner = request.node.nodeid
    if not server.alive():
        server.start()
    payment = client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert sim.order(pos.client_id, payment.order_id)["amountMinor"] == 10000
