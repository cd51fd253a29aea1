//! What the store reads and writes. Columns that are filtered or updated concurrently are
//! real columns; the rest of a record travels in a JSON `doc`, typed here.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone)]
pub struct MerchantRow {
    pub id: i64,
    pub name: String,
    pub api_key: String,
    pub secret_key_sealed: String,
    pub threeds_callback_key_sealed: String,
    pub hook_key_sealed: String,
    pub webhook_url: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewMerchant {
    pub name: String,
    pub api_key: String,
    pub secret_key_sealed: String,
    pub threeds_callback_key_sealed: String,
    pub hook_key_sealed: String,
    pub created_at: i64,
}

/// A member (buyer or sub-merchant). Craftgate's many optional fields live in `doc`.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub id: i64,
    pub merchant_id: i64,
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub is_buyer: bool,
    pub is_sub_merchant: bool,
    pub member_type: Option<String>,
    pub status: String,
    pub doc: serde_json::Value,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    pub is_buyer: Option<bool>,
    pub is_sub_merchant: Option<bool>,
    pub name: Option<String>,
    pub member_ids: Vec<i64>,
    pub member_type: Option<String>,
    pub external_id: Option<String>,
}

/// A merchant POS. Credentials are sealed by the vault before they reach the store.
#[derive(Debug, Clone)]
pub struct PosRow {
    pub id: i64,
    pub merchant_id: i64,
    pub alias: String,
    pub name: String,
    pub status: String,
    pub pos_integrator: String,
    pub currency: String,
    pub order_number: i64,
    pub doc: PosDoc,
    pub credentials_sealed: String,
    pub commissions: Vec<CommissionDoc>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Non-secret POS configuration, Craftgate's `MerchantPosResponse` fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PosDoc {
    pub hostname: Option<String>,
    pub path: Option<String>,
    pub threeds_path: Option<String>,
    pub port: Option<i64>,
    pub mode: Option<String>,
    pub client_id: Option<String>,
    pub terminal_id: Option<String>,
    pub posnet_id: Option<String>,
    pub threeds_posnet_id: Option<String>,
    pub threeds_terminal_id: Option<String>,
    pub enable_foreign_card: bool,
    pub enable_installment: bool,
    pub enable_payment_without_cvc: bool,
    pub enable_loyalty: bool,
    pub new_integration: bool,
    pub is_pf: bool,
    pub supported_card_associations: Vec<String>,
    pub enabled_payment_authentication_types: Vec<String>,
    pub enabled_payment_phases: Vec<String>,
    /// The bank's 3D Secure model for this POS (`3d`, `3d_pay`, `3d_host`): an Orkestra
    /// extension; `3d` when absent.
    #[serde(default)]
    pub threeds_model: Option<String>,
    /// Ids and non-secret parts of the POS users (passwords are in the sealed credentials).
    pub users: Vec<PosUserDoc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PosUserDoc {
    pub id: i64,
    pub pos_username: String,
    pub pos_user_type: String,
    pub pos_operation_type: String,
}

/// The sealed part of a POS: what the bank needs to trust us.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PosCredentials {
    /// Password per POS user id.
    pub user_passwords: Vec<(i64, String)>,
    pub threeds_key: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CommissionDoc {
    pub id: i64,
    pub status: String,
    pub installment: i64,
    pub blockage_day: Option<i64>,
    pub installment_label: Option<String>,
    pub card_brand_name: Option<String>,
    /// Rates are decimal strings (percent), kept exact.
    pub bank_on_us_credit_card_commission_rate: Option<String>,
    pub bank_not_on_us_credit_card_commission_rate: Option<String>,
    pub bank_on_us_debit_card_commission_rate: Option<String>,
    pub bank_not_on_us_debit_card_commission_rate: Option<String>,
    pub bank_foreign_card_commission_rate: Option<String>,
    pub merchant_commission_rate: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PosFilter {
    pub name: Option<String>,
    pub alias: Option<String>,
    pub currency: Option<String>,
    pub enable_installment: Option<bool>,
    pub enable_foreign_card: Option<bool>,
    pub bank_name: Option<String>,
}

/// A payment as the merchant sees it. `captured_minor` and `refunded_minor` are the balance
/// that refunds reserve against.
#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub id: i64,
    pub merchant_id: i64,
    pub status: String,
    pub phase: String,
    pub price_minor: i64,
    pub paid_price_minor: i64,
    pub currency: String,
    pub installment: i64,
    pub payment_group: String,
    pub payment_source: String,
    pub conversation_id: Option<String>,
    pub external_id: Option<String>,
    pub buyer_member_id: Option<i64>,
    pub pos_id: Option<i64>,
    pub bin_number: Option<String>,
    pub last_four: Option<String>,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    pub voided: bool,
    pub doc: PaymentDoc,
    pub checkout_token: Option<String>,
    pub product_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Bumped by every write: lets a writer that holds the row skip reading it again.
    pub version: i64,
}

/// A payment as [`crate::Store::insert_payment`] wrote it, with its items and first attempt.
#[derive(Debug, Clone)]
pub struct InsertedPayment {
    pub payment: PaymentRow,
    pub items: Vec<PaymentItemRow>,
    pub attempt: AttemptRow,
}

/// What [`crate::Store::resolve_attempt_from`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The attempt and the payment were written, in one transaction.
    Applied,
    /// Someone else resolved the attempt first; nothing was written.
    AlreadyResolved,
    /// The payment changed since the caller's copy; nothing was written (read it again).
    PaymentChanged,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDoc {
    #[serde(default)]
    pub is_three_ds: bool,
    pub md_status: Option<String>,
    pub payment_type: String,
    pub payment_channel: Option<String>,
    pub client_ip: Option<String>,
    pub card_holder_name: Option<String>,
    pub card_type: Option<String>,
    pub card_association: Option<String>,
    pub card_brand: Option<String>,
    pub card_issuer_bank_name: Option<String>,
    pub card_issuer_bank_id: Option<i64>,
    pub auth_code: Option<String>,
    pub host_reference: Option<String>,
    pub trans_id: Option<String>,
    /// The bank order id of the attempt that decided the payment.
    pub order_id: Option<String>,
    pub requested_pos_alias: Option<String>,
    pub pos_name: Option<String>,
    pub pos_alias: Option<String>,
    pub pos_bank_id: Option<i64>,
    pub error: Option<ErrorDoc>,
    pub retry_count: i64,
    /// The routing decision that placed this payment (candidates, reasons, costs), as the
    /// JSON text it was written as: kept whole, it costs a copy rather than some fifty maps
    /// built, cloned and dropped each time a payment row is read, copied or written.
    #[serde(default)]
    pub routing: Option<Box<serde_json::value::RawValue>>,
    /// Commission of the POS that took the payment, percent as a decimal string.
    #[serde(default)]
    pub bank_commission_rate: Option<String>,
    #[serde(default)]
    pub bank_commission_minor: Option<i64>,
    #[serde(default)]
    pub merchant_commission_rate: Option<String>,
    #[serde(default)]
    pub card_user_key: Option<String>,
    #[serde(default)]
    pub card_token: Option<String>,
    #[serde(default)]
    pub paid_with_stored_card: bool,
    /// Set when a pre-authorisation was captured: what was authorised first.
    pub pre_auth_minor: Option<i64>,
    pub additional_params: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDoc {
    pub error_code: String,
    pub error_description: String,
    pub error_group: String,
    pub provider_error_code: Option<String>,
    pub provider_error_message: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewPayment {
    pub merchant_id: i64,
    pub status: String,
    pub phase: String,
    pub price_minor: i64,
    pub paid_price_minor: i64,
    pub currency: String,
    pub installment: i64,
    pub payment_group: String,
    pub payment_source: String,
    pub conversation_id: Option<String>,
    pub external_id: Option<String>,
    pub buyer_member_id: Option<i64>,
    pub pos_id: i64,
    pub bin_number: Option<String>,
    pub last_four: Option<String>,
    pub doc: PaymentDoc,
    pub checkout_token: Option<String>,
    pub product_id: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct PaymentItemRow {
    pub id: i64,
    pub payment_id: i64,
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub price_minor: i64,
    pub paid_price_minor: i64,
    pub refunded_minor: i64,
    pub sub_merchant_member_id: Option<i64>,
    pub sub_merchant_member_price_minor: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewPaymentItem {
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub price_minor: i64,
    pub paid_price_minor: i64,
    pub sub_merchant_member_id: Option<i64>,
    pub sub_merchant_member_price_minor: Option<i64>,
}

/// Attempt states: `sent` (written before the bank call), then `approved`, `declined` or
/// `unknown` (resolved later by a status inquiry).
pub mod attempt_state {
    /// 3D Secure: the shopper is at the bank; the bank's callback is awaited.
    pub const THREEDS_PENDING: &str = "threeds_pending";
    /// 3D Secure (`3d` model): authenticated; `3ds-complete` provisions it.
    pub const THREEDS_AUTHENTICATED: &str = "threeds_authenticated";
    pub const SENT: &str = "sent";
    pub const APPROVED: &str = "approved";
    pub const DECLINED: &str = "declined";
    pub const UNKNOWN: &str = "unknown";
}

#[derive(Debug, Clone)]
pub struct AttemptRow {
    pub id: i64,
    pub payment_id: i64,
    pub merchant_id: i64,
    pub pos_id: i64,
    pub order_id: String,
    pub operation: String,
    pub amount_minor: i64,
    pub state: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// The unguessable token in the bank's callback URL (3D attempts).
    pub threeds_token: Option<String>,
    pub threeds: Option<ThreeDsDoc>,
    /// When a 3D attempt still waiting for its callback expires.
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub pos_id: i64,
    pub order_id: String,
    pub operation: String,
    pub amount_minor: i64,
    pub created_at: i64,
    /// `sent` for direct calls, `threeds_pending` for 3D Secure.
    pub state: &'static str,
    pub threeds_token: Option<String>,
    pub threeds: Option<ThreeDsDoc>,
    pub expires_at: Option<i64>,
}

impl NewAttempt {
    /// An attempt whose bank call is about to be made.
    pub fn direct(
        pos_id: i64,
        order_id: String,
        operation: &str,
        amount_minor: i64,
        created_at: i64,
    ) -> NewAttempt {
        NewAttempt {
            pos_id,
            order_id,
            operation: operation.to_owned(),
            amount_minor,
            created_at,
            state: attempt_state::SENT,
            threeds_token: None,
            threeds: None,
            expires_at: None,
        }
    }
}

/// What a 3D Secure attempt keeps: the model, where the shopper goes afterwards, and the
/// authentication result the provision needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ThreeDsDoc {
    pub model: String,
    /// The merchant's `callbackUrl` (API) — or the checkout token (hosted page).
    pub merchant_callback_url: Option<String>,
    pub checkout_token: Option<String>,
    pub lang: String,
    pub md_status: Option<String>,
    pub md: Option<String>,
    pub xid: Option<String>,
    pub eci: Option<String>,
    pub cavv: Option<String>,
    pub message: Option<String>,
    /// `storeCardAfterSuccessPayment` on a 3D payment: the card kept `PENDING` at the start
    /// (user key, token), made a stored card if the payment succeeds, forgotten otherwise.
    #[serde(default)]
    pub pending_card: Option<(String, String)>,
}

/// A refund, one bank operation (`void` or `credit`), possibly spanning several items.
#[derive(Debug, Clone)]
pub struct RefundRow {
    pub id: i64,
    pub merchant_id: i64,
    pub payment_id: i64,
    pub refund_type: String,
    pub status: String,
    pub amount_minor: i64,
    pub currency: String,
    pub conversation_id: Option<String>,
    pub order_id: String,
    pub bank_operation: String,
    pub doc: RefundDoc,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundDoc {
    pub refund_destination_type: String,
    pub auth_code: Option<String>,
    pub host_reference: Option<String>,
    pub trans_id: Option<String>,
    pub error: Option<ErrorDoc>,
    /// `true` for a partial refund made through `/refund-transactions` (one item).
    pub single_item: bool,
}

#[derive(Debug, Clone)]
pub struct RefundTransactionRow {
    pub id: i64,
    pub merchant_id: i64,
    pub refund_id: Option<i64>,
    pub payment_id: i64,
    pub payment_transaction_id: i64,
    pub amount_minor: i64,
    pub status: String,
    pub conversation_id: Option<String>,
    pub is_after_settlement: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One reservation of refundable money: per item, summed on the payment.
#[derive(Debug, Clone)]
pub struct RefundReservation {
    pub merchant_id: i64,
    pub payment_id: i64,
    pub refund_type: String,
    pub bank_operation: String,
    pub currency: String,
    pub conversation_id: Option<String>,
    pub order_id: String,
    pub doc: RefundDoc,
    /// `(payment_transaction_id, amount_minor)` to reserve.
    pub items: Vec<(i64, i64)>,
    /// A void cancels the whole payment: it also requires that nothing was refunded yet.
    pub is_void: bool,
    pub is_after_settlement: bool,
    pub created_at: i64,
    /// The refund's amount as shown; equals the reserved sum except for the cancel of a
    /// pre-authorisation, which reserves nothing (nothing was captured).
    pub amount_minor: i64,
}

#[derive(Debug, Clone, Default)]
pub struct PaymentFilter {
    pub payment_id: Option<i64>,
    pub payment_transaction_id: Option<i64>,
    pub buyer_member_id: Option<i64>,
    pub conversation_id: Option<String>,
    pub external_id: Option<String>,
    pub order_id: Option<String>,
    pub payment_status: Option<String>,
    pub payment_source: Option<String>,
    pub payment_type: Option<String>,
    pub bin_number: Option<String>,
    pub last_four: Option<String>,
    pub currency: Option<String>,
    pub min_paid_price_minor: Option<i64>,
    pub max_paid_price_minor: Option<i64>,
    pub installment: Option<i64>,
    pub min_created_at: Option<i64>,
    pub max_created_at: Option<i64>,
    /// The POS that took the payment (the panel's filter; not a Craftgate field).
    pub pos_id: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: i64,
    pub size: i64,
}

#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub page: i64,
    pub size: i64,
    pub total_size: i64,
}

/// A hosted checkout page session (`/payment/v1/checkout-payments/init`).
#[derive(Debug, Clone)]
pub struct CheckoutRow {
    pub token: String,
    pub merchant_id: i64,
    /// `ACTIVE`, `COMPLETED` (paid), `EXPIRED`.
    pub status: String,
    pub product_id: Option<i64>,
    pub payment_id: Option<i64>,
    pub doc: serde_json::Value,
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Where the token is POSTed when a payment on this session ends (`merchantWebhookUrl`).
    pub merchant_webhook_url: Option<String>,
}

/// A pay-by-link product (Craftlink).
#[derive(Debug, Clone)]
pub struct ProductRow {
    pub id: i64,
    pub merchant_id: i64,
    pub token: String,
    pub name: String,
    pub status: String,
    pub price_minor: i64,
    pub currency: String,
    pub stock: Option<i64>,
    pub sold_count: i64,
    pub channel: Option<String>,
    pub expires_at: Option<i64>,
    pub doc: serde_json::Value,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub currency: Option<String>,
    pub channel: Option<String>,
    pub min_price_minor: Option<i64>,
    pub max_price_minor: Option<i64>,
}

/// A stored card. The number is only ever here sealed; `doc` holds the descriptive fields.
#[derive(Debug, Clone)]
pub struct StoredCardRow {
    pub id: i64,
    pub merchant_id: i64,
    pub card_user_key: String,
    pub card_token: String,
    pub status: String,
    pub fingerprint: String,
    pub pan_sealed: String,
    pub bin_number: String,
    pub last_four: String,
    pub expire_month: String,
    pub expire_year: String,
    pub doc: StoredCardDoc,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoredCardDoc {
    pub card_alias: Option<String>,
    pub card_holder_name: Option<String>,
    pub card_type: Option<String>,
    pub card_association: Option<String>,
    pub card_brand: Option<String>,
    pub card_bank_name: Option<String>,
    pub card_bank_id: Option<i64>,
    pub commercial: bool,
}

#[derive(Debug, Clone, Default)]
pub struct StoredCardFilter {
    pub card_user_key: Option<String>,
    pub card_token: Option<String>,
    pub card_alias: Option<String>,
    pub card_brand: Option<String>,
    pub card_type: Option<String>,
    pub card_association: Option<String>,
    pub card_bank_name: Option<String>,
    pub min_created_at: Option<i64>,
    pub max_created_at: Option<i64>,
}
