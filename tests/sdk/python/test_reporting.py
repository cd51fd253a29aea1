"""Payment reporting search through the SDK."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from craftgate.model.currency import Currency
from craftgate.model.payment_status import PaymentStatus
from craftgate.request.search_payments_request import SearchPaymentsRequest

import orkestra_harness as h
import sdk_helpers as s


@pytest.fixture(scope="module")
def batch(client, isbank_alias, halkbank_alias):
    """Four payments under one conversationId: three successes, one decline."""
    conversation_id = h.uid("report")
    made = {}
    made["a"] = client.payment().create_payment(s.payment_request(
        price="11.11", pos_alias=isbank_alias, conversation_id=conversation_id))
    made["b"] = client.payment().create_payment(s.payment_request(
        price="22.22", pos_alias=halkbank_alias, conversation_id=conversation_id, installment=2))
    made["bonus"] = client.payment().create_payment(s.payment_request(
        price="33.33", pos_alias=isbank_alias, conversation_id=conversation_id, card_number=s.BONUS_CARD))
    try:
        client.payment().create_payment(s.payment_request(
            price="44.44", pos_alias=isbank_alias, conversation_id=conversation_id,
            card_number="5100050000006661"))
        raise AssertionError("the decline card was approved")
    except s.CraftgateException as e:
        assert e.error_group == "NOT_SUFFICIENT_FUNDS"
    return conversation_id, made


def search(client, **kw):
    return client.payment_reporting().search_payments(SearchPaymentsRequest(**kw))


def test_search_by_conversation_id(client, batch):
    conversation_id, made = batch
    found = search(client, conversation_id=conversation_id)
    assert found.total_size == 4
    assert len(found.items) == 4
    assert {made["a"].id, made["b"].id, made["bonus"].id} < {p.id for p in found.items}
    assert all(p.conversation_id == conversation_id for p in found.items)
    # Newest first.
    ids = [p.id for p in found.items]
    assert ids == sorted(ids, reverse=True)
    assert search(client, conversation_id=h.uid("none")).total_size == 0


def test_search_by_payment_status(client, batch):
    conversation_id, made = batch
    failed = search(client, conversation_id=conversation_id, payment_status=PaymentStatus.FAILURE)
    assert failed.total_size == 1
    assert failed.items[0].paid_price == Decimal("44.44")
    assert failed.items[0].payment_error.error_group == "NOT_SUFFICIENT_FUNDS"
    ok = search(client, conversation_id=conversation_id, payment_status=PaymentStatus.SUCCESS)
    assert {p.id for p in ok.items} == {made["a"].id, made["b"].id, made["bonus"].id}


def test_search_by_currency(client, batch):
    conversation_id, _ = batch
    assert search(client, conversation_id=conversation_id, currency=Currency.TRY).total_size == 4
    assert search(client, conversation_id=conversation_id, currency=Currency.USD).total_size == 0


def test_search_by_paid_price_range(client, batch):
    conversation_id, made = batch
    mid = search(client, conversation_id=conversation_id,
                 min_paid_price=Decimal("20"), max_paid_price=Decimal("40"))
    assert {p.id for p in mid.items} == {made["b"].id, made["bonus"].id}
    exact = search(client, conversation_id=conversation_id,
                   min_paid_price=Decimal("22.22"), max_paid_price=Decimal("22.22"))
    assert [p.id for p in exact.items] == [made["b"].id]
    above = search(client, conversation_id=conversation_id, min_paid_price=Decimal("33.34"))
    assert [p.paid_price for p in above.items] == [Decimal("44.44")]
    below = search(client, conversation_id=conversation_id, max_paid_price=Decimal("11.11"))
    assert [p.id for p in below.items] == [made["a"].id]


def test_search_by_bin_and_last_four(client, batch):
    conversation_id, made = batch
    by_bin = search(client, conversation_id=conversation_id, bin_number="404308")
    assert [p.id for p in by_bin.items] == [made["bonus"].id]
    by_last_four = search(client, conversation_id=conversation_id, last_four_digits="0003")
    assert [p.id for p in by_last_four.items] == [made["bonus"].id]
    yk = search(client, conversation_id=conversation_id, bin_number="525864", last_four_digits="0001")
    assert {p.id for p in yk.items} == {made["a"].id, made["b"].id}


def test_search_by_other_fields(client, batch):
    conversation_id, made = batch
    by_id = search(client, payment_id=made["b"].id)
    assert [p.id for p in by_id.items] == [made["b"].id]
    by_order = search(client, order_id=made["a"].order_id)
    assert [p.id for p in by_order.items] == [made["a"].id]
    by_installment = search(client, conversation_id=conversation_id, installment=2)
    assert [p.id for p in by_installment.items] == [made["b"].id]
    by_tx = search(client, payment_transaction_id=made["bonus"].payment_transactions[0].id)
    assert [p.id for p in by_tx.items] == [made["bonus"].id]
    now = datetime.now()
    window = search(client, conversation_id=conversation_id,
                    min_created_date=now - timedelta(days=1), max_created_date=now + timedelta(days=1))
    assert window.total_size == 4
    future = search(client, conversation_id=conversation_id, min_created_date=now + timedelta(days=1))
    assert future.total_size == 0


def test_search_paging(client, batch):
    conversation_id, _ = batch
    pages = [search(client, conversation_id=conversation_id, page=i, size=3) for i in range(3)]
    assert [len(p.items) for p in pages] == [3, 1, 0]
    assert all(p.total_size == 4 for p in pages)
    assert pages[1].page == 1 and pages[1].size == 3
    ids = [x.id for p in pages for x in p.items]
    assert len(ids) == len(set(ids)) == 4


def test_search_items_are_full_payments(client, batch):
    conversation_id, made = batch
    found = search(client, payment_id=made["a"].id).items[0]
    assert s.enum_value(found.payment_status) == "SUCCESS"
    assert found.order_id == made["a"].order_id
    assert found.bin_number == "525864" and found.last_four_digits == "0001"
    assert found.pos.alias == made["a"].pos.alias
    assert s.enum_value(found.currency) == "TRY"
    assert found.created_date == made["a"].created_date


def test_search_validation(raw):
    h.errors_of(raw.get("/payment-reporting/v1/payments?paymentStatus=MAYBE"), 400)
    h.errors_of(raw.get("/payment-reporting/v1/payments?currency=XYZ"), 400)
    h.errors_of(raw.get("/payment-reporting/v1/payments?minPaidPrice=abc"), 400)
    h.errors_of(raw.get("/payment-reporting/v1/payments?minCreatedDate=yesterday"), 400)
    h.errors_of(raw.get("/payment-reporting/v1/payments?paymentId=x"), 400)
