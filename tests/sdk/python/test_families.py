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


# Each family's sandbox terminal as a merchant would type it into the API (the simulators
# preload these; see SANDBOX_POSES in crates/orkestra/src/main.rs):
# (integrator, api path, 3D path, clientId, terminalId, posnetId, user, password, 3D key)
FAMILY_CREDENTIALS = {
    "garanti": ("GARANTI", "/VPServlet", "/servlet/gt3dengine", "7000680", "30691299", None,
                "PROVAUT", "ORKESTRA-G2", "SANDBOXKEYG2"),
    "posnet": ("YKB", "/PosnetWebService/XML", "/3DSWebService/YKBPaymentService", "6706598330", "67005560",
               "27430", "27430", "unused", "12,34,56,78,90,12,34,56"),
    "payfor": ("FINANSBANK", "/Gateway/XMLGate.aspx", "/Gateway/Default.aspx", "085300000009705", None, None,
               "ORKESTRA_API_KULLANICI", "ORKESTRA1", "SANDBOXKEY5"),
    "interpos": ("DENIZBANK", "/mpi/Default.aspx", "/mpi/Default.aspx", "3124", None, None,
                 "ORKESTRA_API", "ORKESTRA1", "SANDBOXKEYD"),
    "akbank": ("AKBANK_VPOS", "/api/v1/payment/virtualpos/transaction/process", "/securepay",
               "20251127120000000001A1B2C3D4E5F6", "20251127120000000002F6E5D4C3B2A1", None, "AKBANK_JSON", "unused",
               "323032353131323731323030303030303030315f6f726b65737472615f73616e64626f785f616b62616e6b5f6a736f6e5f6b6579"),
    "kuveyt": ("KUVEYTTURK", "/boa.virtualpos.services/Home", "/boa.virtualpos.services/Home/ThreeDModelPayGate",
               "81", "400236", None, "ORKESTRA_API", "ORKESTRA1", None),
    "payflex": ("VAKIFBANK", "/VposService/v3/Vposreq.aspx", "/MPIAPI/MPI_Enrollment.aspx", "000000000222222",
                "VP000222", None, "PAYFLEX", "ORKESTRA-PF1", "unused"),
}


@pytest.mark.parametrize("family", sorted(FAMILY_CREDENTIALS))
def test_a_pos_created_through_the_sdk_pays_and_refunds(env, family):
    """What a merchant does first: enter the bank's credentials with create_merchant_pos,
    then pay through that POS at once."""
    from craftgate.model.currency import Currency
    from craftgate.model.pos_integrator import PosIntegrator
    from craftgate.model.pos_operation_type import PosOperationType
    from craftgate.model.pos_user_type import PosUserType
    from craftgate.request.create_merchant_pos_request import CreateMerchantPosRequest
    from craftgate.request.dto.create_merchant_pos_user import CreateMerchantPosUser

    integrator, path, threeds_path, client_id, terminal_id, posnet_id, user, password, key = FAMILY_CREDENTIALS[family]
    request = CreateMerchantPosRequest(
        status=PosStatus.ACTIVE, name=f"{family} via SDK", client_id=client_id, terminal_id=terminal_id,
        posnet_id=posnet_id, currency=Currency.TRY, threeds_key=key, enable_installment=True,
        enable_foreign_card=False, enable_payment_without_cvc=False, enable_loyalty=False, new_integration=False,
        order_number=90, pos_integrator=PosIntegrator(integrator),
        merchant_pos_users=[CreateMerchantPosUser(pos_username=user, pos_password=password,
                                                  pos_user_type=PosUserType.API,
                                                  pos_operation_type=PosOperationType.STANDARD)])
    # Orkestra's extension: where this POS's bank is (here, the in-process simulator).
    request.hostname = f"{env.server.base_url}/sim/{family}"
    request.path = path
    request.threeds_path = threeds_path
    pos = env.client.merchant().create_merchant_pos(request)
    assert h.last_status() == 200
    assert s.enum_value(pos.pos_integrator) == integrator
    assert pos.merchant_pos_users[0].pos_password != password, "credentials are write-only"
    payment = env.client.payment().create_payment(s.payment_request(price="45.60", pos_alias=pos.alias))
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.pos.alias == pos.alias
    assert bank_order(env, family, client_id, payment.order_id)["amountMinor"] == 4560
    refund = env.client.payment().refund_payment(RefundPaymentRequest(payment_id=payment.id))
    assert s.enum_value(refund.status) == "SUCCESS"
    env.client.merchant().update_merchant_pos_status(
        UpdateMerchantPosStatusRequest(merchant_pos_id=pos.id, pos_status=PosStatus.PASSIVE))
