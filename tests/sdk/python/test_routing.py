"""Smart routing through the SDK (routing_options, commissions, installments, retry on
another POS), on a server of its own: three POSes on three simulated NestPay banks — the
sandbox İşbank and Halkbank POSes and a Ziraat POS created here through the SDK on the
simulator's preloaded Ziraat store — with commissions that make every ordering rule choose
differently. The `routing` explanation is an extension, read from the raw JSON."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Dict, List

import pytest
from craftgate.model.currency import Currency
from craftgate.model.pos_integrator import PosIntegrator
from craftgate.model.status import Status
from craftgate.request.dto.routing_options import OrderingRule, RoutingOptions
from craftgate.request.dto.update_merchant_pos_commission import UpdateMerchantPosCommission
from craftgate.request.search_installments_request import SearchInstallmentsRequest
from craftgate.request.search_payments_request import SearchPaymentsRequest
from craftgate.request.update_merchant_pos_commissions_request import UpdateMerchantPosCommissionsRequest

import orkestra_harness as h
import sdk_helpers as s
from conftest import (SANDBOX_HALKBANK_CLIENT_ID, SANDBOX_ISBANK_CLIENT_ID, SandboxEnv, create_sim_pos,
                      sandbox_server)

ZIRAAT_CLIENT_ID = "190100000"  # preloaded in every simulator (ZIRAATAPI / ZIRAAT19, store key 123456)
HALKBANK_CARD = "4025260000000011"  # BIN 402526: Halkbank, Paraf
ZIRAAT_CARD = "4045910000000017"  # BIN 404591: Ziraat, Bankkart Combo
GARANTI_CARD = s.BONUS_CARD  # BIN 404308: Garanti BBVA, Bonus — none of our banks
YAPIKREDI_CARD = s.SUCCESS_CARD  # BIN 525864: Yapı Kredi — none of our banks
STOLEN_CARD = "5101520000006662"
MERCHANT_RATE_3 = Decimal("4.37")  # passed on to the buyer for 3 installments

# Bank rates (percent) per POS: (on-us credit, not-on-us credit) for 1 and 3 installments.
# Not on us, Ziraat is the cheapest, then Halkbank, then İşbank (which is first by order
# number); on us, Halkbank is dearer than Ziraat's not-on-us rate, so ON_US and
# LOW_COMMISSION_RATE disagree for a Halkbank card.
RATES = {
    "isbank": {1: ("1.20", "2.10"), 3: ("2.50", "3.30")},
    "halkbank": {1: ("1.60", "1.95"), 3: ("2.40", "3.10")},
    "ziraat": {1: ("1.00", "1.45"), 3: ("2.20", "2.90")},
}


class RoutingEnv(SandboxEnv):
    def __init__(self, server):
        super().__init__(server)
        self.ziraat = create_sim_pos(
            self.client, self.sim, server.base_url,
            name="Ziraat POS", client_id=ZIRAAT_CLIENT_ID, pos_username="ZIRAATAPI", pos_password="ZIRAAT19",
            threeds_key="123456", register_store=False, pos_integrator=PosIntegrator.ZIRAATBANK,
            order_number=3,
        )
        self.alias = {"isbank": self.isbank_alias, "halkbank": self.halkbank_alias, "ziraat": self.ziraat.alias}
        self.client_id = {"isbank": SANDBOX_ISBANK_CLIENT_ID, "halkbank": SANDBOX_HALKBANK_CLIENT_ID,
                          "ziraat": ZIRAAT_CLIENT_ID}
        self.bank_of_alias = {alias: bank for bank, alias in self.alias.items()}
        ids = {"isbank": self.poses[SANDBOX_ISBANK_CLIENT_ID].id,
               "halkbank": self.poses[SANDBOX_HALKBANK_CLIENT_ID].id, "ziraat": self.ziraat.id}
        for bank, rows in RATES.items():
            self.client.merchant().update_merchant_pos_commissions(ids[bank], UpdateMerchantPosCommissionsRequest(
                commissions=[
                    UpdateMerchantPosCommission(
                        installment=n, status=Status.ACTIVE,
                        bank_on_us_credit_card_commission_rate=Decimal(on_us),
                        bank_not_on_us_credit_card_commission_rate=Decimal(not_on_us),
                        bank_on_us_debit_card_commission_rate=Decimal(on_us),
                        bank_not_on_us_debit_card_commission_rate=Decimal(not_on_us),
                        bank_foreign_card_commission_rate=Decimal("3.5"),
                        merchant_commission_rate=MERCHANT_RATE_3 if n == 3 else Decimal("0"),
                    )
                    for n, (on_us, not_on_us) in rows.items()
                ]))

    def approved_auths(self) -> Dict[str, List[dict]]:
        """Every approved sale in the three simulated banks' books, by bank."""
        return {
            bank: [t | {"orderId": o["orderId"]} for o in self.sim.orders(cid) for t in o["transactions"]
                   if t["approved"] and t["type"] == "Auth"]
            for bank, cid in self.client_id.items()
        }

    def raw_payment(self, payment_id) -> dict:
        return h.data_of(self.raw.get(f"/payment/v1/card-payments/{payment_id}"))


@pytest.fixture(scope="module")
def env(tmp_path_factory, db_kind):
    with sandbox_server(tmp_path_factory, db_kind, "routing", bank_timeout_secs=10) as srv:
        yield RoutingEnv(srv)


def pay(env, card_number, rule=None, price="100", installment=1, paid_price=None, **extra):
    request = s.payment_request(price=price, paid_price=paid_price, card_number=card_number, installment=installment)
    if rule is not None:
        request.routing_options = RoutingOptions(ordering_rule=rule)
    for name, value in extra.items():
        setattr(request, name, value)
    return env.client.payment().create_payment(request)


def heal(env, *banks):
    """A success on a POS after a test's injected failures, so that no POS collects three
    consecutive technical failures across tests (that would rest it for 30 s)."""
    for bank in banks:
        healthy = env.client.payment().create_payment(
            s.payment_request(price="1", card_number=YAPIKREDI_CARD, pos_alias=env.alias[bank]))
        assert s.enum_value(healthy.payment_status) == "SUCCESS" and healthy.pos.alias == env.alias[bank]


def delta(before, after):
    return {bank: [t for t in after[bank] if t not in before[bank]] for bank in after}


@pytest.mark.parametrize("card_number, bank", [(HALKBANK_CARD, "halkbank"), (ZIRAAT_CARD, "ziraat")],
                         ids=["halkbank-card", "ziraat-card"])
def test_on_us_sends_the_card_to_its_own_bank(env, card_number, bank):
    before = env.approved_auths()
    payment = pay(env, card_number, OrderingRule.ON_US)
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.pos.alias == env.alias[bank]
    # On-us rate of that bank, 1 installment.
    assert Decimal(str(payment.bank_commission_rate)) == Decimal(RATES[bank][1][0])
    new = delta(before, env.approved_auths())
    assert [t["orderId"] for t in new[bank]] == [payment.order_id]
    assert sum(len(v) for v in new.values()) == 1

    routing = env.raw_payment(payment.id)["routing"]
    assert routing["decision"]["orderingRule"] == "ON_US"
    first = routing["decision"]["candidates"][0]
    assert first["alias"] == env.alias[bank] and first["onUs"] is True
    assert [c["onUs"] for c in routing["decision"]["candidates"][1:]] == [False, False]
    assert [a["state"] for a in routing["attempts"]] == ["approved"]


def test_rules_disagree_for_a_halkbank_card(env):
    """ON_US: Halkbank (its own bank, 1.60 %); LOW_COMMISSION_RATE: Ziraat (1.45 % not on us);
    IN_ORDER: İşbank (order number 1)."""
    assert pay(env, HALKBANK_CARD, OrderingRule.ON_US).pos.alias == env.alias["halkbank"]
    assert pay(env, HALKBANK_CARD, OrderingRule.LOW_COMMISSION_RATE).pos.alias == env.alias["ziraat"]
    assert pay(env, HALKBANK_CARD, OrderingRule.IN_ORDER).pos.alias == env.alias["isbank"]


def test_low_commission_rate_picks_the_cheapest_for_a_garanti_card(env):
    before = env.approved_auths()
    payment = pay(env, GARANTI_CARD, OrderingRule.LOW_COMMISSION_RATE, price="200")
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.pos.alias == env.alias["ziraat"]
    assert Decimal(str(payment.bank_commission_rate)) == Decimal("1.45")
    assert Decimal(str(payment.bank_commission_rate_amount)) == Decimal("2.90")  # 1.45 % of 200
    new = delta(before, env.approved_auths())
    assert [t["orderId"] for t in new["ziraat"]] == [payment.order_id] and not new["isbank"] and not new["halkbank"]

    decision = env.raw_payment(payment.id)["routing"]["decision"]
    assert decision["orderingRule"] == "LOW_COMMISSION_RATE"
    assert [c["alias"] for c in decision["candidates"]] == [env.alias[b] for b in ("ziraat", "halkbank", "isbank")]
    assert [Decimal(c["costRate"]) for c in decision["candidates"]] == [Decimal("1.45"), Decimal("1.95"),
                                                                        Decimal("2.10")]
    assert [c["costAmountMinor"] for c in decision["candidates"]] == [290, 390, 420]
    # Nobody's own bank: ON_US falls back to the commission order.
    assert pay(env, GARANTI_CARD, OrderingRule.ON_US).pos.alias == env.alias["ziraat"]
    # And the dry run agrees, charging nothing.
    before = env.approved_auths()
    dry = h.data_of(env.raw.post("/merchant/v1/routing/dry-run", {
        "binNumber": GARANTI_CARD[:8], "price": 200, "currency": "TRY", "installment": 1, "threeDs": False,
        "orderingRule": "LOW_COMMISSION_RATE"}))
    assert dry["chosenPosAlias"] == env.alias["ziraat"]
    assert env.approved_auths() == before


def test_installment_total_from_search_installments_is_charged_exactly(env):
    price = Decimal("99.99")
    found = env.client.installment().search_installments(
        SearchInstallmentsRequest(bin_number=GARANTI_CARD[:6], price=price, currency=Currency.TRY))
    assert h.last_status() == 200
    [item] = found.items
    assert item.bin_number == GARANTI_CARD[:6] and item.bank_name == "Garanti BBVA"
    by_count = {p.installment_number: p for p in item.installment_prices}
    assert {1, 3} <= set(by_count)
    three = by_count[3]
    expected_total = (price * (1 + MERCHANT_RATE_3 / 100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    total = Decimal(str(three.total_price))
    assert total == expected_total == Decimal("104.36")
    assert Decimal(str(three.merchant_commission_rate)) == MERCHANT_RATE_3
    assert Decimal(str(three.installment_price)) == (total / 3).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    assert Decimal(str(by_count[1].total_price)) == price

    before = env.approved_auths()
    payment = pay(env, GARANTI_CARD, price=str(price), installment=3, paid_price=str(total))
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.installment == 3
    assert payment.paid_price == total and payment.price == price
    assert payment.pos.alias == three.pos_alias
    assert Decimal(str(payment.merchant_commission_rate)) == MERCHANT_RATE_3
    new = delta(before, env.approved_auths())
    bank = env.bank_of_alias[three.pos_alias]
    assert [(t["orderId"], t["amountMinor"]) for t in new[bank]] == [(payment.order_id, s.minor(total))]
    assert sum(len(v) for v in new.values()) == 1
    order = env.sim.order(env.client_id[bank], payment.order_id)
    assert order["installment"] == 3 and order["amountMinor"] == s.minor(total)


def test_bank_commission_amount_is_of_the_amount_charged(env):
    """If a payment in 3 installments is accepted with paidPrice = price (the merchant
    absorbing its pass-on rate), the bank's commission is still a rate of what was charged."""
    try:
        payment = pay(env, GARANTI_CARD, OrderingRule.IN_ORDER, price="99.99", installment=3)
    except Exception:  # refusing paidPrice below the installment total is a fair answer too
        assert h.last_status() == 400, h.last_response().text
        return
    assert payment.paid_price == Decimal("99.99")
    rate = Decimal(str(payment.bank_commission_rate))
    expected = (Decimal("99.99") * rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert Decimal(str(payment.bank_commission_rate_amount)) == expected, (
        f"bankCommissionRateAmount {payment.bank_commission_rate_amount} is {rate} % of the "
        f"installment total, not of the {payment.paid_price} charged (expected {expected})")


def test_technical_failure_retries_on_the_next_pos_with_one_charge(env):
    before = env.approved_auths()
    env.sim.fault(SANDBOX_ISBANK_CLIENT_ID, "http500", 1)
    payment = pay(env, YAPIKREDI_CARD, OrderingRule.IN_ORDER, price="61.50")
    assert h.last_status() == 200
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.pos.alias == env.alias["halkbank"]
    assert payment.retry_count == 1
    assert env.sim.pending_faults(SANDBOX_ISBANK_CLIENT_ID) == []

    new = delta(before, env.approved_auths())
    assert sum(len(v) for v in new.values()) == 1, new
    assert [(t["orderId"], t["amountMinor"]) for t in new["halkbank"]] == [(payment.order_id, 6150)]

    attempts = env.raw_payment(payment.id)["routing"]["attempts"]
    assert len(attempts) == 2, attempts
    assert attempts[1]["state"] == "approved" and attempts[1]["orderId"] == payment.order_id
    assert attempts[0]["state"] != "approved"
    assert attempts[0]["orderId"] != attempts[1]["orderId"]  # a new bank order id on the next POS
    assert env.sim.order(SANDBOX_ISBANK_CLIENT_ID, attempts[0]["orderId"]) is None
    heal(env, "isbank")


def test_two_failing_poses_then_the_third(env):
    before = env.approved_auths()
    env.sim.fault(SANDBOX_ISBANK_CLIENT_ID, "http500", 1)
    env.sim.fault(SANDBOX_HALKBANK_CLIENT_ID, "html", 1)  # a maintenance page instead of XML
    payment = pay(env, YAPIKREDI_CARD, OrderingRule.IN_ORDER, price="12")
    assert s.enum_value(payment.payment_status) == "SUCCESS"
    assert payment.pos.alias == env.alias["ziraat"]
    new = delta(before, env.approved_auths())
    assert sum(len(v) for v in new.values()) == 1 and [t["orderId"] for t in new["ziraat"]] == [payment.order_id]
    assert len(env.raw_payment(payment.id)["routing"]["attempts"]) == 3
    heal(env, "isbank", "halkbank")


def test_no_retry_when_asked_not_to(env):
    before = env.approved_auths()
    env.sim.fault(ZIRAAT_CLIENT_ID, "http500", 1)
    conversation_id = h.uid("noretry")
    request = s.payment_request(card_number=YAPIKREDI_CARD, conversation_id=conversation_id)
    # posAliases: only these POSes, in this order.
    request.routing_options = RoutingOptions(pos_aliases=[env.alias["ziraat"], env.alias["isbank"]])
    request.retry = False
    s.expect_error(lambda: env.client.payment().create_payment(request), group="BANK_NOT_AVAILABLE")
    assert delta(before, env.approved_auths()) == {"isbank": [], "halkbank": [], "ziraat": []}
    [found] = env.client.payment_reporting().search_payments(
        SearchPaymentsRequest(conversation_id=conversation_id)).items
    assert s.enum_value(found.payment_status) == "FAILURE"
    data = env.raw_payment(found.id)
    assert [c["alias"] for c in data["routing"]["decision"]["candidates"]] == [env.alias["ziraat"],
                                                                               env.alias["isbank"]]
    assert [a["posId"] for a in data["routing"]["attempts"]] == [env.ziraat.id]
    heal(env, "ziraat")

    # The same with retry (the default): the second POS of the list takes it.
    env.sim.fault(ZIRAAT_CLIENT_ID, "http500", 1)
    request.retry = True
    request.conversation_id = h.uid("retry")
    payment = env.client.payment().create_payment(request)
    assert payment.pos.alias == env.alias["isbank"]
    heal(env, "ziraat")


def test_issuer_decline_is_not_retried(env):
    orders_before = {bank: len(env.sim.orders(cid)) for bank, cid in env.client_id.items()}
    conversation_id = h.uid("stolen")
    request = s.payment_request(card_number=STOLEN_CARD, conversation_id=conversation_id)
    request.routing_options = RoutingOptions(ordering_rule=OrderingRule.IN_ORDER)
    e = s.expect_error(lambda: env.client.payment().create_payment(request), status=422, group="STOLEN_CARD")
    assert e.provider_error is not None
    orders_after = {bank: len(env.sim.orders(cid)) for bank, cid in env.client_id.items()}
    # One order at the first POS, declined; the other banks never saw the card.
    assert orders_after == dict(orders_before, isbank=orders_before["isbank"] + 1)

    [found] = env.client.payment_reporting().search_payments(
        SearchPaymentsRequest(conversation_id=conversation_id)).items
    assert s.enum_value(found.payment_status) == "FAILURE"
    data = env.raw_payment(found.id)
    attempts = data["routing"]["attempts"]
    assert len(attempts) == 1 and attempts[0]["state"] == "declined"
    assert data["retryCount"] == 0
    assert data["routing"]["decision"]["candidates"][0]["alias"] == env.alias["isbank"]


def test_routing_is_in_the_raw_json_of_a_new_payment(env):
    body = s.raw_payment_body(card={"cardNumber": ZIRAAT_CARD}, routingOptions={"orderingRule": "ON_US"})
    data = h.data_of(env.raw.post("/payment/v1/card-payments", body))
    assert data["paymentStatus"] == "SUCCESS"
    routing = data["routing"]
    assert set(routing) >= {"decision", "attempts"}
    decision = routing["decision"]
    assert decision["orderingRule"] == "ON_US"
    assert decision["installment"] == 1 and decision["currency"] == "TRY"
    assert [c["alias"] for c in decision["candidates"]][0] == env.alias["ziraat"]
    assert {c["alias"] for c in decision["candidates"]} == set(env.alias.values())
    assert all(c["reasons"] for c in decision["candidates"])
    # Only the sandbox's passive POSes (other families) are left out, each with its reason.
    assert decision["excluded"], decision
    assert all(e["reason"] == {"status": "PASSIVE", "type": "POS_STATUS"} for e in decision["excluded"])
    [attempt] = routing["attempts"]
    assert attempt["state"] == "approved" and attempt["orderId"] == data["orderId"]
    assert attempt["posId"] == env.ziraat.id
    assert data["pos"]["alias"] == env.alias["ziraat"]
