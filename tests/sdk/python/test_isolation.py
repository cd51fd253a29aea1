"""A second merchant (made with `orkestra merchant create`) sees nothing of the first."""

from decimal import Decimal

import pytest
from craftgate.model.payment_phase import PaymentPhase
from craftgate.request.delete_merchant_pos_request import DeleteMerchantPosRequest
from craftgate.request.post_auth_payment_request import PostAuthPaymentRequest
from craftgate.request.refund_payment_request import RefundPaymentRequest
from craftgate.request.refund_payment_transaction_request import RefundPaymentTransactionRequest
from craftgate.request.search_members_request import SearchMembersRequest
from craftgate.request.search_merchant_pos_request import SearchMerchantPosRequest
from craftgate.request.search_payments_request import SearchPaymentsRequest
from craftgate.request.update_member_request import UpdateMemberRequest
from craftgate.request.update_merchant_pos_request import UpdateMerchantPosRequest
from craftgate.request.update_merchant_pos_status_request import UpdateMerchantPosStatusRequest
from craftgate.model.pos_status import PosStatus

import orkestra_harness as h
import sdk_helpers as s
from conftest import SANDBOX_ISBANK_CLIENT_ID
from test_members import new_member


@pytest.fixture(scope="module")
def first(client, isbank_alias):
    """The sandbox merchant's payment, pre-auth, refund, member and POS."""
    sale = client.payment().create_payment(s.payment_request(price="42", pos_alias=isbank_alias))
    pre = client.payment().create_payment(
        s.payment_request(price="43", pos_alias=isbank_alias, phase=PaymentPhase.PRE_AUTH))
    cancelled = client.payment().create_payment(s.payment_request(price="44", pos_alias=isbank_alias))
    refund = client.payment().refund_payment(RefundPaymentRequest(payment_id=cancelled.id))
    member = new_member(client, name="First Merchant Buyer")
    return {"sale": sale, "pre": pre, "refund": refund, "member": member}


def test_second_merchant_is_a_different_merchant(second_merchant, sandbox_keys):
    assert second_merchant["apiKey"] != sandbox_keys["apiKey"]
    assert second_merchant["merchantId"] != sandbox_keys["merchantId"]


def test_cannot_see_payments(second_client, first):
    sale = first["sale"]
    s.expect_error(lambda: second_client.payment().retrieve_payment(sale.id), status=404)
    s.expect_error(lambda: second_client.payment_reporting().retrieve_payment(sale.id), status=404)
    s.expect_error(lambda: second_client.payment_reporting().retrieve_payment_transactions(sale.id), status=404)
    s.expect_error(lambda: second_client.payment_reporting().retrieve_payment_refunds(sale.id), status=404)
    found = second_client.payment_reporting().search_payments(SearchPaymentsRequest(size=100))
    assert found.total_size == 0
    assert second_client.payment_reporting().search_payments(
        SearchPaymentsRequest(conversation_id=sale.conversation_id)).total_size == 0
    assert second_client.payment_reporting().search_payments(
        SearchPaymentsRequest(payment_id=sale.id)).total_size == 0


def test_cannot_refund_or_capture(client, second_client, sim, first):
    sale, pre = first["sale"], first["pre"]
    s.expect_error(lambda: second_client.payment().refund_payment(RefundPaymentRequest(payment_id=sale.id)),
                   status=404)
    s.expect_error(
        lambda: second_client.payment().refund_payment_transaction(RefundPaymentTransactionRequest(
            payment_transaction_id=sale.payment_transactions[0].id, refund_price=Decimal("1"))),
        status=404,
    )
    s.expect_error(lambda: second_client.payment().post_auth_payment(pre.id, PostAuthPaymentRequest()),
                   status=404)
    s.expect_error(lambda: second_client.payment().retrieve_payment_refund(first["refund"].id), status=404)
    # Nothing happened at the bank or to the payments.
    order = sim.order(SANDBOX_ISBANK_CLIENT_ID, sale.order_id)
    assert order["voided"] is False and order["refundedMinor"] == 0
    assert sim.order(SANDBOX_ISBANK_CLIENT_ID, pre.order_id)["capturedMinor"] == 0
    assert s.enum_value(client.payment().retrieve_payment(pre.id).payment_phase) == "PRE_AUTH"
    assert s.enum_value(client.payment_reporting().retrieve_payment(sale.id).refund_status) == "NOT_REFUNDED"


def test_cannot_see_or_change_members(client, second_client, first):
    member = first["member"]
    s.expect_error(lambda: second_client.onboarding().retrieve_member(member.id), status=404)
    s.expect_error(lambda: second_client.onboarding().update_member(member.id, UpdateMemberRequest(name="Hijacked")),
                   status=404)
    listed = second_client.onboarding().search_members(SearchMembersRequest(member_ids={member.id}))
    assert listed.total_size == 0
    assert second_client.onboarding().search_members(
        SearchMembersRequest(member_external_id=member.member_external_id)).total_size == 0
    assert client.onboarding().retrieve_member(member.id).name == "First Merchant Buyer"


def test_same_member_external_id_allowed_per_merchant(client, second_client, first):
    """memberExternalId is unique per merchant, not across merchants."""
    clone = new_member(second_client, external_id=first["member"].member_external_id)
    assert clone.id != first["member"].id


def test_cannot_use_another_merchants_member_as_buyer(second_client, first):
    s.expect_error(lambda: second_client.payment().create_payment(
        s.payment_request(buyer_member_id=first["member"].id)), status=400)


def test_cannot_see_or_change_poses(client, second_client, sandbox_poses, isbank_alias, raw, second_raw):
    pos = sandbox_poses[SANDBOX_ISBANK_CLIENT_ID]
    s.expect_error(lambda: second_client.merchant().retrieve(pos.id), status=404)
    s.expect_error(lambda: second_client.merchant().update_merchant_pos(pos.id, UpdateMerchantPosRequest(name="Mine")),
                   status=404)
    s.expect_error(lambda: second_client.merchant().update_merchant_pos_status(
        UpdateMerchantPosStatusRequest(merchant_pos_id=pos.id, pos_status=PosStatus.PASSIVE)), status=404)
    s.expect_error(lambda: second_client.merchant().retrieve_merchant_pos_commissions(pos.id), status=404)
    h.errors_of(second_raw.post(f"/merchant/v1/merchant-poses/{pos.id}/commissions",
                                {"commissions": [{"installment": 1}]}), 404)
    s.expect_error(lambda: second_client.merchant().delete_merchant_pos(DeleteMerchantPosRequest(merchant_pos_id=pos.id)),
                   status=404)
    assert second_client.merchant().search_merchant_pos(SearchMerchantPosRequest(size=100)).total_size == 0
    # The second merchant cannot pay through the first merchant's POS alias.
    s.expect_error(lambda: second_client.payment().create_payment(s.payment_request(pos_alias=isbank_alias)),
                   status=400)
    # Still intact for its owner.
    mine = client.merchant().retrieve(pos.id)
    assert mine.name == pos.name and s.enum_value(mine.status) == "ACTIVE"


def test_second_merchant_without_poses_cannot_pay(second_client):
    s.expect_error(lambda: second_client.payment().create_payment(s.payment_request()), status=400)


def test_second_merchant_can_use_its_own_pos(second_client, sim, server):
    from conftest import create_sim_pos

    pos = create_sim_pos(second_client, sim, server.base_url)
    payment = second_client.payment().create_payment(s.payment_request(pos_alias=pos.alias))
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert sim.order(pos.client_id, payment.order_id) is not None
