//! Response bodies: stored rows rendered as Craftgate's response types (camelCase fields,
//! money as exact JSON numbers, local date-times).

use chrono::FixedOffset;
use engine::payments::PaymentView;
use engine::refunds::RefundView;
use serde_json::{Value, json};
use store::rows::{
    CommissionDoc, ErrorDoc, MemberRow, PaymentItemRow, PaymentRow, PosRow, RefundRow,
    RefundTransactionRow,
};

use crate::json::{local_datetime, money, number, parse_decimal};

fn error_value(error: &Option<ErrorDoc>) -> Value {
    match error {
        Some(e) => json!({
            "errorCode": e.error_code,
            "errorDescription": e.error_description,
            "errorGroup": e.error_group,
        }),
        None => Value::Null,
    }
}

fn item(i: &PaymentItemRow, currency: &str, zone: FixedOffset) -> Value {
    json!({
        "id": i.id,
        "name": i.name,
        "externalId": i.external_id,
        "price": money(i.price_minor, currency),
        "paidPrice": money(i.paid_price_minor, currency),
        "walletPrice": money(0, currency),
        "merchantCommissionRate": money(0, currency),
        "merchantCommissionRateAmount": money(0, currency),
        "merchantPayoutAmount": money(i.paid_price_minor, currency),
        "subMerchantMemberId": i.sub_merchant_member_id,
        "subMerchantMemberPrice": i.sub_merchant_member_price_minor.map(|m| money(m, currency)),
        "subMerchantMemberPayoutRate": Value::Null,
        "subMerchantMemberPayoutAmount": i.sub_merchant_member_price_minor.map(|m| money(m, currency)),
        "transactionStatus": "APPROVED",
        "blockageResolvedDate": local_datetime(i.created_at, zone),
        "refundablePrice": money(i.paid_price_minor - i.refunded_minor, currency),
        "payout": {
            "paidPrice": money(i.paid_price_minor, currency),
            "parity": 1,
            "currency": currency,
            "merchantPayoutAmount": money(i.paid_price_minor, currency),
            "subMerchantMemberPayoutAmount": i.sub_merchant_member_price_minor.map(|m| money(m, currency)),
        },
    })
}

/// Craftgate's `PaymentResponse`.
pub fn payment(view: &PaymentView, zone: FixedOffset) -> Value {
    let p = &view.payment;
    let c = p.currency.as_str();
    let d = &p.doc;
    json!({
        "id": p.id,
        "createdDate": local_datetime(p.created_at, zone),
        "price": money(p.price_minor, c),
        "paidPrice": money(p.paid_price_minor, c),
        "walletPrice": money(0, c),
        "currency": c,
        "buyerMemberId": p.buyer_member_id,
        "installment": p.installment,
        "conversationId": p.conversation_id,
        "externalId": p.external_id,
        "paymentType": d.payment_type,
        "paymentProvider": "BANK",
        "paymentSource": p.payment_source,
        "paymentGroup": p.payment_group,
        "paymentStatus": p.status,
        "paymentPhase": p.phase,
        "paymentChannel": d.payment_channel,
        "isThreeDs": d.is_three_ds,
        "merchantCommissionRate": rate(&d.merchant_commission_rate),
        // What the shopper paid above the price: the merchant's pass-on of the commission.
        "merchantCommissionRateAmount": money(p.paid_price_minor - p.price_minor, c),
        "bankCommissionRate": rate(&d.bank_commission_rate),
        "bankCommissionRateAmount": d.bank_commission_minor.map(|m| money(m, c)),
        "paidWithStoredCard": d.paid_with_stored_card,
        "cardUserKey": d.card_user_key,
        "cardToken": d.card_token,
        "binNumber": p.bin_number,
        "lastFourDigits": p.last_four,
        "authCode": d.auth_code,
        "hostReference": d.host_reference,
        "transId": d.trans_id,
        "mdStatus": d.md_status.as_deref().and_then(|m| m.parse::<i64>().ok()),
        "orderId": d.order_id,
        "cardHolderName": d.card_holder_name,
        "bankCardHolderName": Value::Null,
        "cardIssuerBankName": d.card_issuer_bank_name,
        "cardIssuerBankId": d.card_issuer_bank_id,
        "cardType": d.card_type,
        "cardAssociation": d.card_association,
        "cardBrand": d.card_brand,
        "requestedPosAlias": d.requested_pos_alias,
        "pos": p.pos_id.map(|id| json!({"id": id, "name": d.pos_name, "alias": d.pos_alias, "bankId": d.pos_bank_id})),
        "paymentError": error_value(&d.error),
        "retryCount": d.retry_count,
        "refundablePrice": money(p.captured_minor - p.refunded_minor, c),
        "refundStatus": refund_status(p),
        "additionalData": d.additional_params,
        "paymentTransactions": view.items.iter().map(|i| item(i, c, zone)).collect::<Vec<_>>(),
        // Orkestra extension: where the payment was routed, why, and each bank attempt.
        "routing": d.routing.as_ref().map(|decision| json!({
            "decision": decision,
            "attempts": view.attempts.iter().map(|a| json!({
                "posId": a.pos_id,
                "orderId": a.order_id,
                "operation": a.operation,
                "state": a.state,
                "bankCode": a.error_code,
                "bankMessage": a.error_message,
                "createdDate": local_datetime(a.created_at, zone),
            })).collect::<Vec<_>>(),
        })),
    })
}

fn refund_status(p: &PaymentRow) -> &'static str {
    if p.voided || (p.captured_minor > 0 && p.refunded_minor >= p.captured_minor) {
        "FULLY_REFUNDED"
    } else if p.refunded_minor > 0 {
        "PARTIAL_REFUNDED"
    } else if p.status == "SUCCESS" {
        "NOT_REFUNDED"
    } else {
        "NO_REFUND"
    }
}

/// `PaymentTransactionRefundResponse`.
pub fn refund_transaction(
    t: &RefundTransactionRow,
    refund: Option<&RefundRow>,
    currency: &str,
    zone: FixedOffset,
) -> Value {
    let doc = refund.map(|r| &r.doc);
    json!({
        "id": t.id,
        "createdDate": local_datetime(t.created_at, zone),
        "status": t.status,
        "refundDestinationType": doc.map(|d| d.refund_destination_type.as_str()).unwrap_or("PROVIDER"),
        "refundPrice": money(t.amount_minor, currency),
        "refundBankPrice": money(t.amount_minor, currency),
        "refundWalletPrice": money(0, currency),
        "conversationId": t.conversation_id,
        "authCode": doc.and_then(|d| d.auth_code.clone()),
        "hostReference": doc.and_then(|d| d.host_reference.clone()),
        "transId": doc.and_then(|d| d.trans_id.clone()),
        "isAfterSettlement": t.is_after_settlement,
        "paymentTransactionId": t.payment_transaction_id,
        "currency": currency,
        "paymentId": t.payment_id,
        "paymentType": "CARD_PAYMENT",
        "error": doc.map(|d| error_value(&d.error)),
    })
}

/// `PaymentRefundResponse`.
pub fn refund(view: &RefundView, zone: FixedOffset) -> Value {
    let r = &view.refund;
    let c = r.currency.as_str();
    let transactions: Vec<Value> = if r.refund_type == "CANCEL" {
        Vec::new()
    } else {
        view.transactions
            .iter()
            .map(|t| refund_transaction(t, Some(r), c, zone))
            .collect()
    };
    json!({
        "id": r.id,
        "createdDate": local_datetime(r.created_at, zone),
        "status": r.status,
        "refundDestinationType": r.doc.refund_destination_type,
        "refundPrice": money(r.amount_minor, c),
        "refundBankPrice": money(r.amount_minor, c),
        "refundWalletPrice": money(0, c),
        "conversationId": r.conversation_id,
        "authCode": r.doc.auth_code,
        "hostReference": r.doc.host_reference,
        "transId": r.doc.trans_id,
        "paymentId": r.payment_id,
        "refundType": r.refund_type,
        "currency": c,
        "paymentType": "CARD_PAYMENT",
        "error": error_value(&r.doc.error),
        "paymentTransactionRefunds": transactions,
    })
}

pub fn member(m: &MemberRow, zone: FixedOffset) -> Value {
    let mut value = m.doc.clone();
    if !value.is_object() {
        value = json!({});
    }
    value["id"] = json!(m.id);
    value["createdDate"] = local_datetime(m.created_at, zone);
    value["updatedDate"] = local_datetime(m.updated_at, zone);
    value["status"] = json!(m.status);
    value["isBuyer"] = json!(m.is_buyer);
    value["isSubMerchant"] = json!(m.is_sub_merchant);
    value["memberType"] = json!(m.member_type);
    value["memberExternalId"] = json!(m.external_id);
    value["name"] = json!(m.name);
    value["email"] = json!(m.email);
    value
}

fn rate(value: &Option<String>) -> Value {
    value
        .as_deref()
        .and_then(|v| parse_decimal(v).ok())
        .map(number)
        .unwrap_or(Value::Null)
}

pub fn commission(c: &CommissionDoc) -> Value {
    json!({
        "id": c.id,
        "status": c.status,
        "installment": c.installment,
        "blockageDay": c.blockage_day,
        "installmentLabel": c.installment_label,
        "cardBrandName": c.card_brand_name,
        "bankOnUsCreditCardCommissionRate": rate(&c.bank_on_us_credit_card_commission_rate),
        "bankNotOnUsCreditCardCommissionRate": rate(&c.bank_not_on_us_credit_card_commission_rate),
        "bankOnUsDebitCardCommissionRate": rate(&c.bank_on_us_debit_card_commission_rate),
        "bankNotOnUsDebitCardCommissionRate": rate(&c.bank_not_on_us_debit_card_commission_rate),
        "bankForeignCardCommissionRate": rate(&c.bank_foreign_card_commission_rate),
        "merchantCommissionRate": rate(&c.merchant_commission_rate),
    })
}

/// `MerchantPosResponse`. Passwords and keys are write-only: never rendered.
/// `up`: whether routing currently uses the POS (false while it rests after failures).
pub fn pos(p: &PosRow, up: bool) -> Value {
    let d = &p.doc;
    let (bank_id, bank_name) = domain::enums::PosIntegrator::parse(&p.pos_integrator)
        .map(|i| i.bank())
        .unwrap_or((0, ""));
    json!({
        "id": p.id,
        "status": p.status,
        "name": p.name,
        "alias": p.alias,
        "posIntegrator": p.pos_integrator,
        "hostname": d.hostname,
        "clientId": d.client_id,
        "posCurrencyCode": domain::money::Currency::ALL.iter().find(|c| c.code() == p.currency).map(|c| c.numeric_code()),
        "mode": d.mode,
        "path": d.path,
        "port": d.port,
        "posnetId": d.posnet_id,
        "terminalId": d.terminal_id,
        "threedsPosnetId": d.threeds_posnet_id,
        "threedsTerminalId": d.threeds_terminal_id,
        "threedsPath": d.threeds_path,
        "enableForeignCard": d.enable_foreign_card,
        "enableInstallment": d.enable_installment,
        "enablePaymentWithoutCvc": d.enable_payment_without_cvc,
        "enableLoyalty": d.enable_loyalty,
        "newIntegration": d.new_integration,
        "orderNumber": p.order_number,
        "autopilotState": {"isThreeDsUp": up, "isNonThreeDsUp": up},
        "currency": p.currency,
        "bankId": bank_id,
        "bankName": bank_name,
        "isPf": d.is_pf,
        "merchantPosUsers": d.users.iter().map(|u| json!({
            "id": u.id,
            "posUsername": u.pos_username,
            "posPassword": "******",
            "posUserType": u.pos_user_type,
            "posOperationType": u.pos_operation_type,
        })).collect::<Vec<_>>(),
        "supportedCardAssociations": d.supported_card_associations,
        "enabledPaymentAuthenticationTypes": d.enabled_payment_authentication_types,
        "threedsModel": d.threeds_model.as_deref().unwrap_or("3d"),
    })
}

pub fn paged(items: Vec<Value>, page: i64, size: i64, total: i64) -> Value {
    json!({ "items": items, "page": page, "size": size, "totalSize": total })
}
