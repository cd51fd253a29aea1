"""Builders for Craftgate SDK requests and assertions shared by the test files."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Sequence

import pytest
from craftgate import Craftgate, RequestOptions
from craftgate.exception.api_exception import CraftgateException
from craftgate.model.currency import Currency
from craftgate.model.payment_group import PaymentGroup
from craftgate.model.payment_phase import PaymentPhase
from craftgate.request.create_payment_request import CreatePaymentRequest
from craftgate.request.dto.card import Card
from craftgate.request.dto.payment_item import PaymentItem

import orkestra_harness as h

SUCCESS_CARD = "5258640000000001"  # BIN 525864: Yapı Kredi, World, MASTER_CARD, CREDIT
BONUS_CARD = "4043080000000003"  # BIN 404308: Garanti, Bonus
EXPIRE_MONTH = "07"
EXPIRE_YEAR = "2044"
CVC = "000"

# Appendix B: card -> errorGroup of a declined non-3DS payment.
DECLINE_CARDS = [
    ("5100050000006661", "NOT_SUFFICIENT_FUNDS"),
    ("5115830000006669", "NOT_SUFFICIENT_FUNDS"),
    ("5117280000006665", "NOT_SUFFICIENT_FUNDS"),
    ("5117580000006668", "NOT_SUFFICIENT_FUNDS"),
    ("5100560000006669", "DO_NOT_HONOUR"),
    ("5101380000006661", "INVALID_TRANSACTION"),
    ("5101510000006663", "NOT_PERMITTED_TO_CARDHOLDER"),
    ("5101520000006662", "STOLEN_CARD"),
    ("5102210000006669", "DECLINED"),
    ("5136620000006669", "LOST_CARD"),
    ("5163080000006662", "EXPIRED_CARD"),
    ("5164580000006660", "INVALID_CVC2"),
    ("5188960000006666", "NOT_PERMITTED_TO_TERMINAL"),
    ("5192610000006661", "FRAUD_SUSPECT"),
    ("5193240000006666", "RESTRICTED_BY_LAW"),
    ("5200170000006666", "UNKNOWN"),
    ("5209220000006660", "CARD_NOT_PERMITTED"),
]
# Appendix B's last card: the payment is approved (its "group" names the outcome).
APPROVED_COMPLETED_CARD = "5213940000006667"


def sdk_client(base_url: str, api_key: str, secret_key: str, language: Optional[str] = None) -> Craftgate:
    return Craftgate(
        RequestOptions(api_key=api_key, secret_key=secret_key, base_url=base_url, language=language)
    )


def card(
    number: str = SUCCESS_CARD,
    month: str = EXPIRE_MONTH,
    year: str = EXPIRE_YEAR,
    cvc: Optional[str] = CVC,
    holder: str = "Haluk Demir",
) -> Card:
    return Card(
        card_holder_name=holder,
        card_number=number,
        expire_year=year,
        expire_month=month,
        cvc=cvc,
    )


def payment_request(
    price: Any = "100.00",
    paid_price: Any = None,
    items: Optional[Sequence[Any]] = None,
    pos_alias: Optional[str] = None,
    phase: PaymentPhase = PaymentPhase.AUTH,
    installment: int = 1,
    conversation_id: Optional[str] = None,
    card_number: str = SUCCESS_CARD,
    the_card: Optional[Card] = None,
    currency: Currency = Currency.TRY,
    buyer_member_id: Optional[int] = None,
) -> CreatePaymentRequest:
    """A CreatePaymentRequest; `items` are prices (one item of `price` by default)."""
    price = Decimal(str(price))
    item_prices = [Decimal(str(p)) for p in (items if items is not None else [price])]
    return CreatePaymentRequest(
        price=price,
        paid_price=Decimal(str(paid_price)) if paid_price is not None else price,
        wallet_price=Decimal("0"),
        pos_alias=pos_alias,
        installment=installment,
        currency=currency,
        payment_group=PaymentGroup.PRODUCT,
        payment_phase=phase,
        conversation_id=conversation_id or h.uid("conv"),
        buyer_member_id=buyer_member_id,
        card=the_card or card(card_number),
        items=[
            PaymentItem(name=f"item {i + 1}", price=p, external_id=h.uid("item"))
            for i, p in enumerate(item_prices)
        ],
    )


def raw_payment_body(**overrides: Any) -> Dict[str, Any]:
    """A camelCase CreatePaymentRequest body for raw requests; override any field."""
    body: Dict[str, Any] = {
        "price": 100.0,
        "paidPrice": 100.0,
        "walletPrice": 0,
        "installment": 1,
        "currency": "TRY",
        "paymentGroup": "PRODUCT",
        "paymentPhase": "AUTH",
        "conversationId": h.uid("conv"),
        "card": {
            "cardHolderName": "Haluk Demir",
            "cardNumber": SUCCESS_CARD,
            "expireYear": EXPIRE_YEAR,
            "expireMonth": EXPIRE_MONTH,
            "cvc": CVC,
        },
        "items": [{"name": "item 1", "price": 100.0}],
    }
    for key, value in overrides.items():
        if key == "card" and value is not None:
            body["card"] = {k: v for k, v in {**body["card"], **value}.items() if v is not None}
        elif value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def expect_error(call: Callable[[], Any], status: Optional[int] = None, code: Optional[str] = None,
                 group: Optional[str] = None) -> CraftgateException:
    """Runs an SDK call that must fail; checks the HTTP status, errorCode and errorGroup."""
    with pytest.raises(CraftgateException) as info:
        call()
    e = info.value
    if status is not None:
        assert h.last_status() == status, (
            f"expected HTTP {status}, got {h.last_status()}: {e!r}; body: "
            f"{h.last_response().text[:1000] if h.last_response() is not None else None}"
        )
    assert e.error_code and e.error_code != CraftgateException.GENERAL_ERROR_CODE, repr(e)
    assert e.error_description and e.error_description != CraftgateException.GENERAL_ERROR_DESCRIPTION, repr(e)
    if code is not None:
        assert e.error_code == code, repr(e)
    if group is not None:
        assert e.error_group == group, repr(e)
    return e


def enum_value(value: Any) -> Any:
    """An SDK enum's wire value (the SDK maps response enums; plain strings pass)."""
    return getattr(value, "value", value)


def minor(amount: Any) -> int:
    """Decimal TRY amount to minor units (the simulator's books are in kuruş)."""
    return int((Decimal(str(amount)) * 100).to_integral_value())


def sim_orders_with(sim: h.SimAdmin, client_id: str, order_id: str) -> List[Dict[str, Any]]:
    return [o for o in sim.orders(client_id) if o.get("orderId") == order_id]
