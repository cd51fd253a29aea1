"""Every connector family end to end through the SDK: the sandbox merchant's Garanti, Yapı
Kredi (PosNet), QNB (PayFor), DenizBank (InterPos), Akbank (JSON virtual POS), Kuveyt Türk
and VakıfBank (PayFlex) POSes start PASSIVE; once activated, each takes a non-3D payment and its
cancel, a 3D Secure payment through its bank's gate (PayFlex: its MPI enrolment) and ACS page, a
pre-auth and its post-auth (and a smaller capture then
a cancel), a partial refund after end of day, and a payment whose bank answer is lost
(recovered by status inquiry), against that bank's simulator (which checks the bank's own
hashes and MACs, and PayFlex's 3D values at provision)."""

from decimal import Decimal

import pytest
import requests
from craftgate.model.payment_phase import PaymentPhase
from craftgate.model.pos_status import PosStatus
from craftgate.request.complete_three_ds_payment_request import CompleteThreeDSPaymentRequest
from craftgate.request.init_three_ds_payment_request import InitThreeDSPaymentRequest
from craftgate.request.post_auth_payment_request import PostAuthPaymentRequest
from craftgate.request.refund_payment_request import RefundPaymentRequest
from craftgate.request.refund_payment_transaction_request import RefundPaymentTransactionRequest
from craftgate.request.update_merchant_pos_status_request import UpdateMerchantPosStatusRequest

import orkestra_harness as h
import sdk_helpers as s
from browser_helpers import Browser, decode_html_content, run_3ds
from conftest import SandboxEnv, sandbox_server

CALLBACK_URL = "https://merchant.example/3ds/callback"

# clientId of each family's sandbox POS (a terminal its simulator preloads).
FAMILY_POSES = {
    "garanti": ("7000680", "GARANTI"),
    "posnet": ("6706598330", "YKB"),
    "payfor": ("085300000009705", "FINANSBANK"),
    "interpos": ("3124", "DENIZBANK"),
    "akbank": ("20251127120000000001A1B2C3D4E5F6", "AKBANK_VPOS"),
    "kuveyt": ("81", "KUVEYTTURK"),
    "payflex": ("000000000222222", "VAKIFBANK"),
}

# Families whose bank offers no pre-authorisation (the connector declares none).
NO_PRE_AUTH = {
    "kuveyt": "Kuveyt Türk's virtual POS offers sales only, no pre-authorisation (vpos-protocols.md §7.3)",
}


def bank_orders(env, family, client_id):
    """The family's simulator's book for the terminal (`/sim/{family}/_sim/orders/...`)."""
    r = requests.get(f"{env.server.base_url}/sim/{family}/_sim/orders/{client_id}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def bank_order(env, family, client_id, order_id):
    [order] = [o for o in bank_orders(env, family, client_id) if o["orderId"] == order_id]
    return order


def sim_admin(env, family, path, body):
    """A POST to the family's simulator admin API (`/sim/{family}/_sim/...`)."""
    r = requests.post(f"{env.server.base_url}/sim/{family}/_sim/{path}", json=body, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def env(tmp_path_factory, db_kind):
    with sandbox_server(tmp_path_factory, db_kind, "families") as srv:
        env = SandboxEnv(srv)
        for client_id, integrator in FAMILY_POSES.values():
            pos = env.poses[client_id]
            assert s.enum_value(pos.pos_integrator) == integrator
            assert s.enum_value(pos.status) == "PASSIVE", "extra sandbox POSes start passive"
            env.client.merchant().update_merchant_pos_status(
                UpdateMerchantPosStatusRequest(merchant_pos_id=pos.id, pos_status=PosStatus.ACTIVE)
            )
        yield env


@pytest.mark.parametrize("family", sorted(FAMILY_POSES))
def test_non_3ds_payment_and_refund(env, family):
    client_id, _ = FAMILY_POSES[family]
    alias = env.poses[client_id].alias
    payment = env.client.payment().create_payment(s.payment_request(price="123.45", pos_alias=alias))
    assert h.last_status() == 200
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.pos.alias == alias
    assert Decimal(str(payment.paid_price)) == Decimal("123.45")
    # The bank's book holds the charge ...
    charged = [o for o in bank_orders(env, family, client_id) if o["amountMinor"] == 12345]
    assert len(charged) == 1 and charged[0]["status"] == "Captured", charged

    refund = env.client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id))
    assert h.last_status() == 200
    assert s.enum_value(refund.status) == "SUCCESS"
    # ... and, refunded on its own day, the bank voided it.
    order = [o for o in bank_orders(env, family, client_id) if o["orderId"] == charged[0]["orderId"]][0]
    assert order["status"] in ("Voided", "Refunded"), order


@pytest.mark.parametrize("family", sorted(FAMILY_POSES))
def test_3ds_payment_through_the_banks_gate(env, family):
    client_id, _ = FAMILY_POSES[family]
    alias = env.poses[client_id].alias
    base = s.payment_request(price="80.10", pos_alias=alias)
    init = env.client.payment().init_3ds_payment(InitThreeDSPaymentRequest(callback_url=CALLBACK_URL, **vars(base)))
    assert h.last_status() == 200
    run = run_3ds(Browser(), decode_html_content(init.html_content), env.server.base_url)
    assert run.orkestra.status_code == 200, run.orkestra.text[:2000]
    assert run.merchant is not None and run.merchant.action == CALLBACK_URL
    fields = dict(run.merchant.fields)
    assert fields["status"] == "SUCCESS", fields
    done = env.client.payment().complete_3ds_payment(CompleteThreeDSPaymentRequest(payment_id=init.payment_id))
    assert h.last_status() == 200
    assert s.enum_value(done.payment_status) == "SUCCESS"
    assert done.pos.alias == alias
    assert Decimal(str(done.paid_price)) == Decimal("80.10")


@pytest.mark.parametrize("family", sorted(FAMILY_POSES))
def test_pre_auth_then_post_auth(env, family):
    if family in NO_PRE_AUTH:
        pytest.skip(NO_PRE_AUTH[family])
    client_id, _ = FAMILY_POSES[family]
    alias = env.poses[client_id].alias
    pre = env.client.payment().create_payment(
        s.payment_request(price="90.00", pos_alias=alias, phase=PaymentPhase.PRE_AUTH))
    assert s.enum_value(pre.payment_status) == "SUCCESS"
    assert bank_order(env, family, client_id, pre.order_id)["status"] == "Authorized"
    post = env.client.payment().post_auth_payment(pre.id, PostAuthPaymentRequest(paid_price=Decimal("70")))
    assert h.last_status() == 200
    assert s.enum_value(post.payment_phase) == "POST_AUTH" and post.paid_price == Decimal("70")
    assert bank_order(env, family, client_id, pre.order_id)["capturedMinor"] == 7000


@pytest.mark.parametrize("family", sorted(FAMILY_POSES))
def test_pre_auth_smaller_post_auth_then_cancel(env, family):
    if family in NO_PRE_AUTH:
        pytest.skip(NO_PRE_AUTH[family])
    client_id, _ = FAMILY_POSES[family]
    alias = env.poses[client_id].alias
    pre = env.client.payment().create_payment(
        s.payment_request(price="60.00", pos_alias=alias, phase=PaymentPhase.PRE_AUTH))
    assert h.last_status() == 200
    assert s.enum_value(pre.payment_status) == "SUCCESS" and s.enum_value(pre.payment_phase) == "PRE_AUTH"
    order = bank_order(env, family, client_id, pre.order_id)
    assert order["status"] == "Authorized" and order["capturedMinor"] == 0, order

    post = env.client.payment().post_auth_payment(pre.id, PostAuthPaymentRequest(paid_price=Decimal("45.00")))
    assert h.last_status() == 200
    assert s.enum_value(post.payment_status) == "SUCCESS"
    assert bank_order(env, family, client_id, pre.order_id)["capturedMinor"] == 4500

    cancel = env.client.payment().refund_payment(RefundPaymentRequest(payment_id=pre.id))
    assert h.last_status() == 200
    assert s.enum_value(cancel.refund_type) == "CANCEL" and s.enum_value(cancel.status) == "SUCCESS"
    order = bank_order(env, family, client_id, pre.order_id)
    assert order["voided"] is True and order["status"] == "Voided", order


@pytest.mark.parametrize("family", sorted(FAMILY_POSES))
def test_partial_refund_after_end_of_day(env, family):
    client_id, _ = FAMILY_POSES[family]
    alias = env.poses[client_id].alias
    payment = env.client.payment().create_payment(s.payment_request(price="100", pos_alias=alias))
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    sim_admin(env, family, "settle", {"clientId": client_id})
    item = payment.payment_transactions[0]
    refund = env.client.payment().refund_payment_transaction(RefundPaymentTransactionRequest(
        payment_transaction_id=item.id, refund_price=Decimal("25"), conversation_id=h.uid("rtx")))
    assert h.last_status() == 200
    assert s.enum_value(refund.status) == "SUCCESS" and refund.is_after_settlement is True
    order = bank_order(env, family, client_id, payment.order_id)
    assert order["refundedMinor"] == 2500 and order["status"] == "PartiallyRefunded", order


@pytest.mark.parametrize("family", sorted(FAMILY_POSES))
def test_lost_bank_answer_is_recovered_by_status_inquiry(env, family):
    """The bank charged but its answer was lost: the status inquiry finds the sale."""
    client_id, _ = FAMILY_POSES[family]
    alias = env.poses[client_id].alias
    before = {o["orderId"] for o in bank_orders(env, family, client_id)}
    sim_admin(env, family, "faults", {"clientId": client_id, "mode": "drop_after", "count": 1})
    payment = env.client.payment().create_payment(s.payment_request(price="12.30", pos_alias=alias))
    assert h.last_status() in (200, 202)

    def settled():
        p = env.client.payment().retrieve_payment(payment.id)
        return p if s.enum_value(p.payment_status) in ("SUCCESS", "FAILURE") else None

    done = h.wait_until(settled, 30, interval=0.25, message=f"payment {payment.id} to settle")
    assert s.enum_value(done.payment_status) == "SUCCESS"
    new = [o for o in bank_orders(env, family, client_id) if o["orderId"] not in before]
    assert len(new) == 1 and new[0]["orderId"] == done.order_id and new[0]["amountMinor"] == 1230, new
