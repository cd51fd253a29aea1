//! The closed-loop wallet on the double-entry ledger (`ledger` crate): members' wallets, the
//! merchant's wallet, clearing accounts, and every flow that moves money between them —
//! card top-ups (deposits), wallet and card-and-wallet payments, refunds into a wallet,
//! refunds of a deposit back to the card, remittances and withdrawals.
//!
//! Every movement is one balanced transfer between two accounts of one merchant and
//! currency. The rules of a transfer come from `ledger::posting` (validation, the deltas of
//! [`ledger::Effect`], the pending checks); the store applies them as one database
//! transaction of conditional `UPDATE`s, so concurrent debits never take a wallet below its
//! negative amount limit and a transfer id applies once. Single transfers may also go
//! through the group commit ([`LedgerBatcher`], [`apply_batch`]): the touched rows locked,
//! the ledger crate's own [`ledger::Ledger`] applying the batch in memory, one commit. Two-step flows hold money with a
//! pending transfer written *before* the bank is called and post or void it once the
//! payment or refund is settled: right where the outcome is applied
//! ([`Engine::settle_payment_hold`], [`Engine::settle_refund_hold`]) and, for anything a
//! crash or a 3D Secure failure left behind, by [`Engine::settle_wallet_holds`].
//!
//! Transfer ids are derived from the business operation (`deposit:{payment id}` …), so a
//! retried operation moves money once; see [`derived_id`].
//!
//! Principal items: [`Engine::create_wallet`], [`Engine::wallet_transfer`],
//! [`LedgerBatcher`] (group commit), [`verify_ledger`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use domain::enums::{ErrorGroup, PaymentPhase, PaymentStatus, RefundType};
use domain::money::{Currency, MinorUnits};
use ledger::posting::{self, Effect, PendingRef};
use ledger::{
    Account, AccountId, AccountKind, AccountState, Balances, InvariantViolation, PendingStatus,
    Transfer, TransferError, TransferKind,
};
use sha2::{Digest, Sha256};
use store::rows::{
    NewPayment, NewPaymentItem, Page, Paged, PaymentDoc, PaymentRow, RefundDoc, RefundReservation,
};
use store::{
    AccountRow, NewAccount, NewTransfer, Posting, PostingOutcome, Store, TransferRow,
    WalletTransactionFilter, WithdrawFilter, WithdrawRow, account_kind, pending_status, ref_kind,
    transfer_kind,
};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::payments::{CreatePayment, PaymentView, split_paid_price};
use crate::refunds::RefundView;
use crate::threeds::{ThreeDsReturn, ThreeDsStart};
use crate::{Engine, EngineError, Result, validation};

/// The ledger's types callers need (the API does not depend on the ledger crate itself).
pub use ledger::{TransferCode, TransferId, TransferOutcome};

pub const PAYMENT_TYPE_CARD: &str = "CARD_PAYMENT";
pub const PAYMENT_TYPE_DEPOSIT: &str = "DEPOSIT_PAYMENT";
pub const PAYMENT_TYPE_WALLET: &str = "WALLET_PAYMENT";
pub const PAYMENT_TYPE_CARD_AND_WALLET: &str = "CARD_AND_WALLET_PAYMENT";

/// The refund's bank operation when it went into a wallet (no bank involved).
pub const REFUND_OPERATION_WALLET: &str = "wallet";

/// How often the wallet settlement task looks for holds left pending.
pub const SETTLEMENT_INTERVAL: Duration = Duration::from_secs(3);

/// A transfer that was applied (now or before, under the same id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub outcome: TransferOutcome,
    /// The transfer's position in the ledger: the wallet transaction id.
    pub seq: i64,
}

/// What a transfer belongs to, stored with it.
#[derive(Debug, Clone, Default)]
pub struct TransferMeta {
    pub ref_kind: Option<&'static str>,
    pub ref_id: Option<i64>,
    pub doc: Option<serde_json::Value>,
}

impl TransferMeta {
    fn of(kind: &'static str, id: Option<i64>) -> TransferMeta {
        TransferMeta {
            ref_kind: Some(kind),
            ref_id: id,
            doc: None,
        }
    }
}

/// Money a card payment holds in the ledger while the bank is asked.
#[derive(Debug, Clone)]
pub struct WalletHold {
    pub(crate) kind: HoldKind,
    /// The buyer's wallet.
    pub(crate) wallet: AccountRow,
    /// The other side: card top-up clearing (deposit) or the merchant's wallet (payment).
    pub(crate) counterpart: AccountRow,
    pub(crate) amount: MinorUnits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldKind {
    /// A top-up: card clearing → wallet, the whole payment.
    Deposit,
    /// The wallet part of a card-and-wallet payment: wallet → merchant wallet.
    WalletPart,
}

impl WalletHold {
    pub(crate) fn payment_type(&self) -> &'static str {
        match self.kind {
            HoldKind::Deposit => PAYMENT_TYPE_DEPOSIT,
            HoldKind::WalletPart => PAYMENT_TYPE_CARD_AND_WALLET,
        }
    }

    /// What the card is charged out of a payment of `paid_price`.
    pub(crate) fn card_amount(&self, paid_price: MinorUnits) -> MinorUnits {
        match self.kind {
            HoldKind::Deposit => paid_price,
            HoldKind::WalletPart => paid_price.saturating_sub(self.amount),
        }
    }
}

/// A refund that takes money out of a wallet (a deposit going back to its card): held
/// before the bank call, posted when the bank refunded, voided otherwise.
#[derive(Debug, Clone)]
pub struct RefundHold {
    pub(crate) wallet: AccountRow,
    pub(crate) code: TransferCode,
}

/// A 128-bit transfer id derived from a business operation, so that the same operation
/// (retried, recovered, or run by two nodes) always names the same transfer.
pub fn derived_id(merchant_id: i64, operation: &str) -> TransferId {
    let digest = Sha256::digest(format!("orkestra-ledger/{merchant_id}/{operation}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    TransferId(u128::from_be_bytes(bytes).max(1))
}

/// A fresh random transfer id, for operations whose retries the API's idempotency keys
/// cover (remittances, withdrawals).
pub fn random_id() -> TransferId {
    TransferId(rand::random::<u128>().max(1))
}

fn corrupt(what: &str) -> EngineError {
    EngineError::Internal(format!("ledger: {what}"))
}

fn currency_of(text: &str) -> Result<Currency> {
    text.parse().map_err(|_| corrupt("currency"))
}

/// The ledger's view of a stored account.
pub fn account_state(row: &AccountRow) -> Result<AccountState> {
    let currency = currency_of(&row.currency)?;
    let kind = match row.kind.as_str() {
        account_kind::MEMBER_WALLET => AccountKind::MemberWallet {
            member_id: row.member_id,
        },
        account_kind::MERCHANT_WALLET => AccountKind::MerchantWallet,
        account_kind::CARD_TOP_UP_CLEARING => AccountKind::CardTopUpClearing,
        account_kind::REFUND_CLEARING => AccountKind::RefundClearing,
        account_kind::WITHDRAWAL_CLEARING => AccountKind::WithdrawalClearing,
        account_kind::REMITTANCE_CLEARING => AccountKind::RemittanceClearing,
        account_kind::SETTLEMENT_CLEARING => AccountKind::SettlementClearing,
        _ => return Err(corrupt("account kind")),
    };
    Ok(AccountState {
        account: Account {
            id: AccountId(row.id),
            currency,
            kind,
            negative_amount_limit: row.negative_amount_limit.map(MinorUnits::from_stored),
        },
        balances: Balances {
            debits_pending: row.debits_pending,
            debits_posted: row.debits_posted,
            credits_pending: row.credits_pending,
            credits_posted: row.credits_posted,
        },
    })
}

/// The ledger's view of a stored transfer.
pub fn ledger_transfer(row: &NewTransfer) -> Result<Transfer> {
    let id: TransferId = row
        .transfer_id
        .parse()
        .map_err(|_| corrupt("transfer id"))?;
    let pending = || -> Result<TransferId> {
        row.pending_id
            .as_deref()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| corrupt("pending id"))
    };
    let kind = match row.kind.as_str() {
        transfer_kind::SINGLE => TransferKind::Single,
        transfer_kind::PENDING => TransferKind::Pending,
        transfer_kind::POST => TransferKind::PostPending {
            pending_id: pending()?,
        },
        transfer_kind::VOID => TransferKind::VoidPending {
            pending_id: pending()?,
        },
        _ => return Err(corrupt("transfer kind")),
    };
    let code = u16::try_from(row.code)
        .ok()
        .and_then(TransferCode::from_code)
        .ok_or_else(|| corrupt("transfer code"))?;
    if row.amount < 0 {
        return Err(corrupt("negative amount"));
    }
    Ok(Transfer {
        id,
        debit_account_id: AccountId(row.debit_account_id),
        credit_account_id: AccountId(row.credit_account_id),
        amount: MinorUnits::from_stored(row.amount),
        currency: currency_of(&row.currency)?,
        kind,
        code,
        linked: false,
        timestamp_ms: row.created_at,
    })
}

fn kind_text(kind: TransferKind) -> &'static str {
    match kind {
        TransferKind::Single => transfer_kind::SINGLE,
        TransferKind::Pending => transfer_kind::PENDING,
        TransferKind::PostPending { .. } => transfer_kind::POST,
        TransferKind::VoidPending { .. } => transfer_kind::VOID,
    }
}

/// The stored form of a transfer.
pub fn new_transfer(merchant_id: i64, t: &Transfer, meta: &TransferMeta) -> NewTransfer {
    NewTransfer {
        transfer_id: t.id.to_string(),
        merchant_id,
        debit_account_id: t.debit_account_id.0,
        credit_account_id: t.credit_account_id.0,
        amount: t.amount.get(),
        currency: t.currency.code().to_owned(),
        kind: kind_text(t.kind).to_owned(),
        pending_id: t.kind.pending_id().map(|p| p.to_string()),
        code: i64::from(t.code.code()),
        ref_kind: meta.ref_kind.map(str::to_owned),
        ref_id: meta.ref_id,
        doc: meta.doc.as_ref().map(|d| d.to_string()),
        created_at: t.timestamp_ms,
    }
}

/// The API's answer to a refused transfer.
pub fn transfer_error(error: TransferError) -> EngineError {
    match error {
        TransferError::ExceedsLimit => EngineError::Declined {
            group: ErrorGroup::NotSufficientFunds,
            provider_code: None,
            provider_message: Some(
                "the wallet's balance and negative amount limit do not cover the amount".into(),
            ),
        },
        TransferError::AccountNotFound(_) => EngineError::NotFound("wallet"),
        TransferError::CurrencyMismatch => {
            validation("4604", "the currency differs from the wallet's currency")
        }
        TransferError::Overflow => validation("4101", "the amount is too large for the wallet"),
        TransferError::ExistsWithDifferentFields => EngineError::Refused {
            code: "4608",
            message: "this wallet transaction exists with other fields".into(),
        },
        TransferError::PendingAlreadyPosted
        | TransferError::PendingAlreadyVoided
        | TransferError::PendingNotFound
        | TransferError::NotPending
        | TransferError::PendingMismatch
        | TransferError::PostAmountExceedsPending => EngineError::Refused {
            code: "4609",
            message: format!("the held wallet amount cannot be settled: {error}"),
        },
        other => validation("4002", other.to_string()),
    }
}

/// A wallet's balance as Craftgate shows it: the posted balance (negative within the
/// limit), and what may be withdrawn (posted credits not owed, never below zero).
pub fn wallet_amounts(row: &AccountRow) -> (i64, i64) {
    let posted = row.credits_posted - row.debits_posted;
    let withdrawable = (posted - row.debits_pending).max(0);
    (posted, withdrawable)
}

/// One side of a remittance.
#[derive(Debug, Clone)]
pub struct RemittanceInput {
    pub member_id: i64,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub description: Option<String>,
    pub reason: Option<String>,
    /// `true`: the merchant sends to the member; `false`: the merchant receives.
    pub send: bool,
}

/// Totals of a ledger check.
#[derive(Debug, Clone, Default)]
pub struct LedgerReport {
    pub accounts: usize,
    pub transfers: usize,
    pub pending_open: usize,
    /// Per currency: Σ posted debits and Σ posted credits over all accounts.
    pub posted_totals: Vec<(String, i128, i128)>,
    pub violations: Vec<InvariantViolation>,
}

/// `orkestra ledger verify`: replays every stored transfer with the ledger crate's
/// independent checker, and compares with the stored balances and pending statuses.
pub async fn verify_ledger(store: &Store) -> Result<LedgerReport> {
    let dump = store.ledger_dump().await?;
    let accounts = dump
        .accounts
        .iter()
        .map(account_state)
        .collect::<Result<Vec<_>>>()?;
    let transfers = dump
        .transfers
        .iter()
        .map(|t| ledger_transfer(&t.transfer))
        .collect::<Result<Vec<_>>>()?;
    let mut statuses = HashMap::new();
    let mut pending_open = 0;
    for (id, status) in &dump.pending {
        let id: TransferId = id.parse().map_err(|_| corrupt("pending id"))?;
        let status = match status.as_str() {
            pending_status::PENDING => {
                pending_open += 1;
                PendingStatus::Pending
            }
            pending_status::POSTED => PendingStatus::Posted,
            pending_status::VOIDED => PendingStatus::Voided,
            _ => return Err(corrupt("pending status")),
        };
        statuses.insert(id, status);
    }
    let violations = match ledger::verify_entries(accounts.iter(), &transfers, &statuses) {
        Ok(()) => Vec::new(),
        Err(violations) => violations,
    };
    let mut totals: HashMap<String, (i128, i128)> = HashMap::new();
    for a in &dump.accounts {
        let total = totals.entry(a.currency.clone()).or_default();
        total.0 += i128::from(a.debits_posted);
        total.1 += i128::from(a.credits_posted);
    }
    let mut posted_totals: Vec<(String, i128, i128)> = totals
        .into_iter()
        .map(|(currency, (debits, credits))| (currency, debits, credits))
        .collect();
    posted_totals.sort();
    Ok(LedgerReport {
        accounts: accounts.len(),
        transfers: transfers.len(),
        pending_open,
        posted_totals,
        violations,
    })
}

impl Engine {
    // ---- accounts ----------------------------------------------------------------------

    async fn ensure_account(
        &self,
        merchant_id: i64,
        kind: &'static str,
        member_id: i64,
        currency: Currency,
        limit: Option<i64>,
    ) -> Result<AccountRow> {
        let (row, _) = self
            .store
            .ensure_ledger_account(&NewAccount {
                merchant_id,
                kind,
                member_id,
                currency: currency.code().to_owned(),
                negative_amount_limit: limit,
                created_at: self.now_ms(),
            })
            .await?;
        Ok(row)
    }

    pub(crate) async fn clearing_account(
        &self,
        merchant_id: i64,
        kind: &'static str,
        currency: Currency,
    ) -> Result<AccountRow> {
        self.ensure_account(merchant_id, kind, 0, currency, None)
            .await
    }

    /// The merchant's own wallet in `currency` (created on first use, limit 0).
    pub async fn merchant_wallet(
        &self,
        merchant_id: i64,
        currency: Currency,
    ) -> Result<AccountRow> {
        self.ensure_account(
            merchant_id,
            account_kind::MERCHANT_WALLET,
            0,
            currency,
            Some(0),
        )
        .await
    }

    /// `POST /wallet/v1/members/{memberId}/wallets`.
    pub async fn create_wallet(
        &self,
        merchant_id: i64,
        member_id: i64,
        currency: Currency,
        negative_amount_limit: MinorUnits,
    ) -> Result<AccountRow> {
        if negative_amount_limit.get() > ledger::BALANCE_MAX {
            return Err(validation("4101", "negativeAmountLimit is too large"));
        }
        self.store
            .member(merchant_id, member_id)
            .await?
            .ok_or(EngineError::NotFound("member"))?;
        self.store
            .insert_member_wallet(&NewAccount {
                merchant_id,
                kind: account_kind::MEMBER_WALLET,
                member_id,
                currency: currency.code().to_owned(),
                negative_amount_limit: Some(negative_amount_limit.get()),
                created_at: self.now_ms(),
            })
            .await
            .map_err(|e| match e {
                store::StoreError::Duplicate(_) => {
                    validation("4602", "the member already has a wallet")
                }
                other => other.into(),
            })
    }

    /// `GET /wallet/v1/members/{memberId}/wallet`.
    pub async fn member_wallet(&self, merchant_id: i64, member_id: i64) -> Result<AccountRow> {
        self.store
            .member_wallet(merchant_id, member_id)
            .await?
            .ok_or(EngineError::NotFound("wallet"))
    }

    /// A wallet (member's or merchant's) of this merchant by id.
    pub async fn wallet(&self, merchant_id: i64, wallet_id: i64) -> Result<AccountRow> {
        self.store
            .ledger_account(merchant_id, wallet_id)
            .await?
            .filter(|a| {
                a.kind == account_kind::MEMBER_WALLET || a.kind == account_kind::MERCHANT_WALLET
            })
            .ok_or(EngineError::NotFound("wallet"))
    }

    /// The buyer's wallet for a payment in `currency`.
    async fn buyer_wallet(
        &self,
        merchant_id: i64,
        buyer: Option<i64>,
        currency: Currency,
    ) -> Result<AccountRow> {
        let buyer = buyer.ok_or_else(|| {
            validation(
                "4001",
                "buyerMemberId (the wallet's owner) is required for wallet operations",
            )
        })?;
        let wallet = self
            .store
            .member_wallet(merchant_id, buyer)
            .await?
            .ok_or_else(|| validation("4603", "the buyer member has no wallet"))?;
        if wallet.currency != currency.code() {
            return Err(validation(
                "4604",
                format!(
                    "the buyer's wallet is in {}, not {currency}",
                    wallet.currency
                ),
            ));
        }
        Ok(wallet)
    }

    /// `PUT /wallet/v1/members/{memberId}/wallets/{walletId}`: a new negative amount limit,
    /// refused when the wallet's debits already exceed what it would allow.
    pub async fn update_wallet(
        &self,
        merchant_id: i64,
        member_id: i64,
        wallet_id: i64,
        negative_amount_limit: MinorUnits,
    ) -> Result<AccountRow> {
        let wallet = self.wallet(merchant_id, wallet_id).await?;
        if wallet.kind != account_kind::MEMBER_WALLET || wallet.member_id != member_id {
            return Err(EngineError::NotFound("wallet"));
        }
        if negative_amount_limit.get() > ledger::BALANCE_MAX {
            return Err(validation("4101", "negativeAmountLimit is too large"));
        }
        let changed = self
            .store
            .set_wallet_limit(
                merchant_id,
                wallet_id,
                negative_amount_limit.get(),
                self.now_ms(),
            )
            .await?;
        if !changed {
            return Err(EngineError::Refused {
                code: "4606",
                message: "the wallet's balance is below what the new negativeAmountLimit allows"
                    .into(),
            });
        }
        self.wallet(merchant_id, wallet_id).await
    }

    // ---- transfers ---------------------------------------------------------------------

    /// Builds the store's posting of a transfer with the ledger's rules: validation, the
    /// post's or void's checks against its (immutable) pending transfer, and the deltas.
    /// Whether the pending transfer is still pending is decided by the store's claim.
    pub(crate) async fn posting_for(
        &self,
        merchant_id: i64,
        t: &Transfer,
        meta: &TransferMeta,
    ) -> Result<std::result::Result<Posting, TransferError>> {
        if let Err(e) = posting::validate(t) {
            return Ok(Err(e));
        }
        let pending = match t.kind.pending_id() {
            Some(pending_id) => match self.store.transfer_by_id(&pending_id.to_string()).await? {
                Some(row) if row.transfer.merchant_id == merchant_id => {
                    Some(ledger_transfer(&row.transfer)?)
                }
                _ => return Ok(Err(TransferError::PendingNotFound)),
            },
            None => None,
        };
        if let Some(p) = &pending {
            let open = PendingRef {
                transfer: p,
                status: Some(PendingStatus::Pending),
            };
            if let Err(e) = posting::check_pending(t, Some(open)) {
                return Ok(Err(e));
            }
        }
        let effect = match Effect::of(t, pending.as_ref()) {
            Ok(effect) => effect,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(Posting {
            transfer: new_transfer(merchant_id, t, meta),
            pending_delta: effect.pending,
            posted_delta: effect.posted,
            debit_limit_cap: None,
        }))
    }

    /// Turns the store's outcome into the ledger's, naming a refusal with the ledger's own
    /// rule on the rows as they are now.
    pub(crate) async fn interpret(
        &self,
        merchant_id: i64,
        t: &Transfer,
        outcome: PostingOutcome,
    ) -> Result<std::result::Result<Applied, TransferError>> {
        match outcome {
            PostingOutcome::Applied { seq } => Ok(Ok(Applied {
                outcome: TransferOutcome::Applied,
                seq,
            })),
            PostingOutcome::Exists(row) => {
                let stored = ledger_transfer(&row.transfer)?;
                if row.transfer.merchant_id == merchant_id && stored.same_request_as(t) {
                    Ok(Ok(Applied {
                        outcome: TransferOutcome::AlreadyApplied,
                        seq: row.seq,
                    }))
                } else {
                    Ok(Err(TransferError::ExistsWithDifferentFields))
                }
            }
            PostingOutcome::PendingNotOpen(status) => Ok(Err(match status.as_deref() {
                Some(pending_status::POSTED) => TransferError::PendingAlreadyPosted,
                Some(pending_status::VOIDED) => TransferError::PendingAlreadyVoided,
                _ => TransferError::PendingNotFound,
            })),
            PostingOutcome::DebitRefused | PostingOutcome::CreditRefused => {
                let debit = self
                    .store
                    .ledger_account(merchant_id, t.debit_account_id.0)
                    .await?;
                let credit = self
                    .store
                    .ledger_account(merchant_id, t.credit_account_id.0)
                    .await?;
                let (Some(debit), Some(credit)) = (debit, credit) else {
                    let missing = if self
                        .store
                        .ledger_account(merchant_id, t.debit_account_id.0)
                        .await?
                        .is_none()
                    {
                        t.debit_account_id
                    } else {
                        t.credit_account_id
                    };
                    return Ok(Err(TransferError::AccountNotFound(missing)));
                };
                let pending = match t.kind.pending_id() {
                    Some(id) => match self.store.transfer_by_id(&id.to_string()).await? {
                        Some(row) => Some(ledger_transfer(&row.transfer)?),
                        None => None,
                    },
                    None => None,
                };
                let pending_ref = pending.as_ref().map(|p| PendingRef {
                    transfer: p,
                    status: Some(PendingStatus::Pending),
                });
                let named = posting::apply_transfer(
                    t,
                    &account_state(&debit)?,
                    &account_state(&credit)?,
                    pending_ref,
                );
                Ok(Err(match (named, outcome) {
                    (Err(e), _) => e,
                    // The rows changed since: a concurrent transfer made it fit again.
                    (Ok(_), PostingOutcome::DebitRefused) => TransferError::ExceedsLimit,
                    (Ok(_), _) => TransferError::Overflow,
                }))
            }
        }
    }

    /// Applies one transfer in its own database transaction.
    pub async fn apply_transfer(
        &self,
        merchant_id: i64,
        t: &Transfer,
        meta: &TransferMeta,
    ) -> Result<std::result::Result<Applied, TransferError>> {
        self.apply_transfer_capped(merchant_id, t, meta, None).await
    }

    /// [`Engine::apply_transfer`], with the debit wallet held to `debit_limit_cap` (at most
    /// its own limit): `Some(0)` lets only money the wallet holds leave it.
    pub async fn apply_transfer_capped(
        &self,
        merchant_id: i64,
        t: &Transfer,
        meta: &TransferMeta,
        debit_limit_cap: Option<i64>,
    ) -> Result<std::result::Result<Applied, TransferError>> {
        let mut posting = match self.posting_for(merchant_id, t, meta).await? {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        posting.debit_limit_cap = debit_limit_cap;
        let outcome = self.store.post_transfer(&posting).await?;
        self.interpret(merchant_id, t, outcome).await
    }

    /// A single transfer between two wallets (or a wallet and a clearing account) of this
    /// merchant: the engine's primitive, measured by the ledger benchmark.
    #[allow(clippy::too_many_arguments)]
    pub async fn wallet_transfer(
        &self,
        merchant_id: i64,
        id: TransferId,
        debit_account_id: i64,
        credit_account_id: i64,
        amount: MinorUnits,
        currency: Currency,
        code: TransferCode,
    ) -> Result<std::result::Result<Applied, TransferError>> {
        let t = Transfer::single(
            id,
            AccountId(debit_account_id),
            AccountId(credit_account_id),
            amount,
            currency,
            code,
            self.now_ms(),
        );
        self.apply_transfer(merchant_id, &t, &TransferMeta::default())
            .await
    }

    /// Posts (`success`) or voids a pending transfer, idempotently: a second settlement,
    /// or one racing the first, finds it settled and changes nothing.
    async fn settle_pending(&self, row: &TransferRow, success: bool) -> Result<bool> {
        let pending = ledger_transfer(&row.transfer)?;
        let merchant_id = row.transfer.merchant_id;
        let now = self.now_ms();
        let t = if success {
            Transfer::post_pending(
                derived_id(merchant_id, &format!("post:{}", pending.id)),
                &pending,
                pending.amount,
                now,
            )
        } else {
            Transfer::void_pending(
                derived_id(merchant_id, &format!("void:{}", pending.id)),
                &pending,
                now,
            )
        };
        let meta = TransferMeta {
            ref_kind: ref_kind_static(row.transfer.ref_kind.as_deref()),
            ref_id: row.transfer.ref_id,
            doc: None,
        };
        match self.apply_transfer(merchant_id, &t, &meta).await? {
            Ok(_) => Ok(true),
            Err(TransferError::PendingAlreadyPosted | TransferError::PendingAlreadyVoided) => {
                Ok(false)
            }
            Err(error) => {
                tracing::error!(transfer_id = %pending.id, %error, success, "a wallet hold could not be settled");
                Err(transfer_error(error))
            }
        }
    }

    /// Settles the wallet holds of a payment that is now SUCCESS (post) or FAILURE (void).
    /// Called where a payment's outcome is applied; a no-op for other payments.
    pub async fn settle_payment_hold(&self, merchant_id: i64, payment_id: i64) -> Result<()> {
        let Some(payment) = self.store.payment_fresh(merchant_id, payment_id).await? else {
            return Ok(());
        };
        let success = if payment.status == PaymentStatus::Success.as_str() {
            true
        } else if payment.status == PaymentStatus::Failure.as_str() {
            false
        } else {
            return Ok(());
        };
        for hold in self
            .store
            .open_pending_of(ref_kind::PAYMENT, payment_id)
            .await?
        {
            if hold.transfer.merchant_id == merchant_id {
                self.settle_pending(&hold, success).await?;
            }
        }
        Ok(())
    }

    /// [`Engine::settle_payment_hold`] where a payment's outcome is applied: the outcome
    /// stands whatever happens here; a hold that could not be settled now is settled by
    /// [`Engine::settle_wallet_holds`] later.
    pub(crate) async fn follow_payment_hold(&self, merchant_id: i64, payment_id: i64) {
        if let Err(error) = self.settle_payment_hold(merchant_id, payment_id).await {
            tracing::warn!(payment_id, %error, "wallet hold not settled yet; the settlement task retries");
        }
    }

    /// [`Engine::settle_refund_hold`] where a refund's outcome is applied (see
    /// [`Engine::follow_payment_hold`]).
    pub(crate) async fn follow_refund_hold(&self, merchant_id: i64, refund_id: i64) {
        if let Err(error) = self.settle_refund_hold(merchant_id, refund_id).await {
            tracing::warn!(refund_id, %error, "wallet hold not settled yet; the settlement task retries");
        }
    }

    /// Settles the wallet hold of a refund that is now SUCCESS (post) or FAILURE (void).
    pub async fn settle_refund_hold(&self, merchant_id: i64, refund_id: i64) -> Result<()> {
        let Some(refund) = self.store.refund(merchant_id, refund_id).await? else {
            return Ok(());
        };
        let success = match refund.status.as_str() {
            "SUCCESS" => true,
            "FAILURE" => false,
            _ => return Ok(()),
        };
        for hold in self
            .store
            .open_pending_of(ref_kind::REFUND, refund_id)
            .await?
        {
            if hold.transfer.merchant_id == merchant_id {
                self.settle_pending(&hold, success).await?;
            }
        }
        Ok(())
    }

    /// Posts or voids every hold whose payment or refund is settled but whose hold is still
    /// pending (a crash between the two writes, a 3D Secure failure or expiry). Run at
    /// start-up and periodically; returns how many were settled.
    pub async fn settle_wallet_holds(&self) -> Result<usize> {
        let mut settled = 0;
        for hold in self.store.settleable_pending(200).await? {
            let merchant_id = hold.transfer.merchant_id;
            let result = match (hold.transfer.ref_kind.as_deref(), hold.transfer.ref_id) {
                (Some(ref_kind::PAYMENT), Some(id)) => {
                    self.settle_payment_hold(merchant_id, id).await
                }
                (Some(ref_kind::REFUND), Some(id)) => {
                    self.settle_refund_hold(merchant_id, id).await
                }
                _ => Ok(()),
            };
            match result {
                Ok(()) => settled += 1,
                Err(error) => {
                    tracing::warn!(transfer_id = %hold.transfer.transfer_id, %error, "wallet hold not settled; will retry")
                }
            }
        }
        if settled > 0 {
            tracing::info!(settled, "settled wallet holds");
        }
        Ok(settled)
    }

    /// Runs [`Engine::settle_wallet_holds`] forever (until the task is dropped).
    pub async fn run_wallet_settlement(self: Arc<Self>) {
        let mut interval = tokio::time::interval(SETTLEMENT_INTERVAL);
        loop {
            interval.tick().await;
            if let Err(error) = self.settle_wallet_holds().await {
                tracing::warn!(%error, "wallet settlement pass failed");
            }
        }
    }

    // ---- holds placed by card payments and refunds --------------------------------------

    /// The hold of a card payment that involves a wallet, written after the payment (so it
    /// can name it) and before the bank is called.
    pub(crate) async fn place_payment_hold(
        &self,
        merchant_id: i64,
        payment_id: i64,
        hold: &WalletHold,
    ) -> Result<()> {
        let (debit, credit, code, op) = match hold.kind {
            HoldKind::Deposit => (
                &hold.counterpart,
                &hold.wallet,
                TransferCode::DepositFromCard,
                "deposit",
            ),
            HoldKind::WalletPart => (
                &hold.wallet,
                &hold.counterpart,
                TransferCode::PaymentRedeem,
                "payment-wallet",
            ),
        };
        let t = Transfer::pending(
            derived_id(merchant_id, &format!("{op}:{payment_id}")),
            AccountId(debit.id),
            AccountId(credit.id),
            hold.amount,
            currency_of(&hold.wallet.currency)?,
            code,
            self.now_ms(),
        );
        self.apply_transfer(
            merchant_id,
            &t,
            &TransferMeta::of(ref_kind::PAYMENT, Some(payment_id)),
        )
        .await?
        .map(|_| ())
        .map_err(transfer_error)
    }

    /// The hold of a refund that takes money out of a wallet (wallet → card clearing).
    pub(crate) async fn place_refund_hold(
        &self,
        merchant_id: i64,
        refund_id: i64,
        amount: i64,
        hold: &RefundHold,
    ) -> Result<()> {
        let currency = currency_of(&hold.wallet.currency)?;
        let clearing = self
            .clearing_account(merchant_id, account_kind::CARD_TOP_UP_CLEARING, currency)
            .await?;
        let t = Transfer::pending(
            derived_id(merchant_id, &format!("refund-hold:{refund_id}")),
            AccountId(hold.wallet.id),
            AccountId(clearing.id),
            MinorUnits::from_stored(amount),
            currency,
            hold.code,
            self.now_ms(),
        );
        // Only money the wallet holds goes back to a card, whatever its negative limit.
        self.apply_transfer_capped(
            merchant_id,
            &t,
            &TransferMeta::of(ref_kind::REFUND, Some(refund_id)),
            Some(0),
        )
        .await?
        .map(|_| ())
        .map_err(transfer_error)
    }

    // ---- deposits ----------------------------------------------------------------------

    async fn deposit_hold(&self, merchant_id: i64, request: &CreatePayment) -> Result<WalletHold> {
        let wallet = self
            .buyer_wallet(merchant_id, request.buyer_member_id, request.currency)
            .await?;
        let counterpart = self
            .clearing_account(
                merchant_id,
                account_kind::CARD_TOP_UP_CLEARING,
                request.currency,
            )
            .await?;
        Ok(WalletHold {
            kind: HoldKind::Deposit,
            wallet,
            counterpart,
            amount: request.price,
        })
    }

    /// `POST /payment/v1/deposits`: a card payment whose amount goes into the buyer's
    /// wallet. The wallet credit is pending until the card payment succeeds.
    pub async fn create_deposit(
        &self,
        merchant_id: i64,
        request: CreatePayment,
    ) -> Result<PaymentView> {
        let hold = self.deposit_hold(merchant_id, &request).await?;
        self.create_payment_with(merchant_id, request, Some(hold))
            .await
    }

    /// `POST /payment/v1/deposits/3ds-init`.
    pub async fn init_3ds_deposit(
        &self,
        merchant_id: i64,
        request: CreatePayment,
        destination: ThreeDsReturn,
        lang: &str,
    ) -> Result<ThreeDsStart> {
        let hold = self.deposit_hold(merchant_id, &request).await?;
        let mut started = self
            .init_3ds_payment(merchant_id, request, destination, lang)
            .await?;
        let payment = &mut started.payment.payment;
        payment.doc.payment_type = PAYMENT_TYPE_DEPOSIT.to_owned();
        let t = Transfer::pending(
            derived_id(merchant_id, &format!("deposit:{}", payment.id)),
            AccountId(hold.counterpart.id),
            AccountId(hold.wallet.id),
            hold.amount,
            currency_of(&hold.wallet.currency)?,
            TransferCode::DepositFromCard,
            self.now_ms(),
        );
        let meta = TransferMeta::of(ref_kind::PAYMENT, Some(payment.id));
        let posting = self
            .posting_for(merchant_id, &t, &meta)
            .await?
            .map_err(transfer_error)?;
        let outcome = self
            .store
            .mark_deposit(merchant_id, payment.id, &payment.doc, &posting)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(m) => EngineError::Refused {
                    code: "4402",
                    message: m.into(),
                },
                other => other.into(),
            })?;
        self.interpret(merchant_id, &t, outcome)
            .await?
            .map_err(transfer_error)?;
        Ok(started)
    }

    /// `POST /payment/v1/deposits/3ds-complete`: completes the card payment, then settles
    /// the deposit's hold whatever the outcome.
    pub async fn complete_3ds_deposit(
        &self,
        merchant_id: i64,
        payment_id: i64,
    ) -> Result<PaymentView> {
        let view = self.payment_view(merchant_id, payment_id).await?;
        if view.payment.doc.payment_type != PAYMENT_TYPE_DEPOSIT {
            return Err(EngineError::NotFound("deposit"));
        }
        let result = self.complete_3ds_payment(merchant_id, payment_id).await;
        self.settle_payment_hold(merchant_id, payment_id).await?;
        result
    }

    /// The deposit's posted wallet transaction, once the card payment succeeded.
    pub async fn deposit_transaction(&self, payment_id: i64) -> Result<Option<TransferRow>> {
        let code = i64::from(TransferCode::DepositFromCard.code());
        Ok(self
            .store
            .transfers_of(ref_kind::PAYMENT, payment_id)
            .await?
            .into_iter()
            .find(|t| {
                t.transfer.code == code
                    && (t.transfer.kind == transfer_kind::POST
                        || t.transfer.kind == transfer_kind::SINGLE)
            }))
    }

    // ---- wallet payments ---------------------------------------------------------------

    /// `walletPrice > 0` on a card payment: all from the wallet (`WALLET_PAYMENT`, one
    /// transaction, no bank) or the wallet part held while the card pays the rest
    /// (`CARD_AND_WALLET_PAYMENT`).
    pub async fn create_wallet_payment(
        &self,
        merchant_id: i64,
        request: CreatePayment,
        wallet_price: MinorUnits,
    ) -> Result<PaymentView> {
        if request.phase != PaymentPhase::Auth {
            return Err(validation(
                "4104",
                "a payment with a walletPrice must be an AUTH payment",
            ));
        }
        if wallet_price > request.paid_price {
            return Err(validation("4104", "walletPrice cannot exceed paidPrice"));
        }
        let wallet = self
            .buyer_wallet(merchant_id, request.buyer_member_id, request.currency)
            .await?;
        let merchant_wallet = self.merchant_wallet(merchant_id, request.currency).await?;
        if wallet_price < request.paid_price {
            let hold = WalletHold {
                kind: HoldKind::WalletPart,
                wallet,
                counterpart: merchant_wallet,
                amount: wallet_price,
            };
            return self
                .create_payment_with(merchant_id, request, Some(hold))
                .await;
        }
        let now = self.now_ms();
        let prices: Vec<i64> = request.items.iter().map(|i| i.price.get()).collect();
        let paid_parts = split_paid_price(request.paid_price.get(), &prices);
        let items: Vec<NewPaymentItem> = request
            .items
            .iter()
            .zip(paid_parts)
            .map(|(item, paid)| NewPaymentItem {
                name: item.name.clone(),
                external_id: item.external_id.clone(),
                price_minor: item.price.get(),
                paid_price_minor: paid,
                sub_merchant_member_id: item.sub_merchant_member_id,
                sub_merchant_member_price_minor: item
                    .sub_merchant_member_price
                    .map(MinorUnits::get),
            })
            .collect();
        let payment = NewPayment {
            merchant_id,
            status: PaymentStatus::Success.as_str().to_owned(),
            phase: PaymentPhase::Auth.as_str().to_owned(),
            price_minor: request.price.get(),
            paid_price_minor: request.paid_price.get(),
            currency: request.currency.code().to_owned(),
            installment: 1,
            payment_group: request.payment_group.as_str().to_owned(),
            payment_source: request.source.as_str().to_owned(),
            conversation_id: request.conversation_id.clone(),
            external_id: request.external_id.clone(),
            buyer_member_id: request.buyer_member_id,
            pos_id: 0,
            bin_number: None,
            last_four: None,
            doc: PaymentDoc {
                payment_type: PAYMENT_TYPE_WALLET.to_owned(),
                payment_channel: request.payment_channel.clone(),
                client_ip: request.client_ip.clone(),
                additional_params: request.additional_params.clone(),
                ..PaymentDoc::default()
            },
            checkout_token: None,
            product_id: None,
            created_at: now,
        };
        let t = Transfer::single(
            random_id(),
            AccountId(wallet.id),
            AccountId(merchant_wallet.id),
            wallet_price,
            request.currency,
            TransferCode::PaymentRedeem,
            now,
        );
        let meta = TransferMeta::of(ref_kind::PAYMENT, None);
        let posting = self
            .posting_for(merchant_id, &t, &meta)
            .await?
            .map_err(transfer_error)?;
        let (payment_id, outcome) = self
            .store
            .insert_wallet_payment(&payment, &items, posting)
            .await?;
        let Some(payment_id) = payment_id else {
            let error = self
                .interpret(merchant_id, &t, outcome)
                .await?
                .err()
                .unwrap_or(TransferError::ExceedsLimit);
            return Err(transfer_error(error));
        };
        tracing::info!(payment_id, "paid from the wallet");
        self.payment_view(merchant_id, payment_id).await
    }

    /// The wallet part of a payment (0 for card payments).
    pub async fn payment_wallet_price(&self, payment: &PaymentRow) -> Result<i64> {
        if payment.doc.payment_type != PAYMENT_TYPE_WALLET
            && payment.doc.payment_type != PAYMENT_TYPE_CARD_AND_WALLET
        {
            return Ok(0);
        }
        let code = i64::from(TransferCode::PaymentRedeem.code());
        Ok(self
            .store
            .transfers_of(ref_kind::PAYMENT, payment.id)
            .await?
            .into_iter()
            .find(|t| {
                t.transfer.code == code
                    && (t.transfer.kind == transfer_kind::SINGLE
                        || t.transfer.kind == transfer_kind::PENDING)
            })
            .map(|t| t.transfer.amount)
            .unwrap_or(0))
    }

    // ---- refunds into a wallet and out of it ---------------------------------------------

    /// A refund into the buyer's wallet (no bank): the reservation, the refund (SUCCESS) and
    /// the transfer refund clearing → wallet in one database transaction.
    pub(crate) async fn refund_into_wallet(
        &self,
        payment: &PaymentRow,
        items: Vec<(i64, i64)>,
        amount: i64,
        is_void: bool,
        single_item: bool,
        conversation_id: Option<String>,
    ) -> Result<RefundView> {
        let currency = currency_of(&payment.currency)?;
        let buyer = payment.buyer_member_id.ok_or_else(|| {
            validation(
                "4301",
                "a refund to a wallet needs the payment's buyerMemberId",
            )
        })?;
        let wallet = self
            .store
            .member_wallet(payment.merchant_id, buyer)
            .await?
            .filter(|w| w.currency == payment.currency)
            .ok_or_else(|| {
                validation(
                    "4301",
                    format!("the buyer has no wallet in {}", payment.currency),
                )
            })?;
        let clearing = self
            .clearing_account(payment.merchant_id, account_kind::REFUND_CLEARING, currency)
            .await?;
        let now = self.now_ms();
        let reservation = RefundReservation {
            merchant_id: payment.merchant_id,
            payment_id: payment.id,
            refund_type: if is_void {
                RefundType::Cancel
            } else {
                RefundType::Refund
            }
            .as_str()
            .to_owned(),
            bank_operation: REFUND_OPERATION_WALLET.to_owned(),
            currency: currency.code().to_owned(),
            conversation_id,
            order_id: payment
                .doc
                .order_id
                .clone()
                .unwrap_or_else(|| format!("WALLET-{}", payment.id)),
            doc: RefundDoc {
                refund_destination_type: domain::enums::RefundDestinationType::Wallet
                    .as_str()
                    .to_owned(),
                single_item,
                ..RefundDoc::default()
            },
            items,
            is_void,
            is_after_settlement: false,
            created_at: now,
            amount_minor: amount,
        };
        let code = if is_void {
            TransferCode::CancelRefundToWallet
        } else {
            TransferCode::RefundTxToWallet
        };
        let t = Transfer::single(
            random_id(),
            AccountId(clearing.id),
            AccountId(wallet.id),
            MinorUnits::from_stored(amount),
            currency,
            code,
            now,
        );
        let meta = TransferMeta::of(ref_kind::REFUND, None);
        let posting = self
            .posting_for(payment.merchant_id, &t, &meta)
            .await?
            .map_err(transfer_error)?;
        let (refund_id, outcome) = self
            .store
            .refund_to_wallet(&reservation, posting)
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict(message) => EngineError::Refused {
                    code: "4306",
                    message: message.into(),
                },
                other => other.into(),
            })?;
        let Some(refund_id) = refund_id else {
            let error = self
                .interpret(payment.merchant_id, &t, outcome)
                .await?
                .err()
                .unwrap_or(TransferError::Overflow);
            return Err(transfer_error(error));
        };
        tracing::info!(
            refund_id,
            payment_id = payment.id,
            "refunded into the wallet"
        );
        self.refund_view(payment.merchant_id, refund_id).await
    }

    /// The deposit payment behind a wallet transaction (a posted card top-up).
    async fn deposit_of_transaction(
        &self,
        merchant_id: i64,
        wallet_transaction_id: i64,
    ) -> Result<(TransferRow, PaymentRow)> {
        let tx = self
            .store
            .transfer_by_seq(merchant_id, wallet_transaction_id)
            .await?
            .filter(|t| {
                t.transfer.kind == transfer_kind::POST || t.transfer.kind == transfer_kind::SINGLE
            })
            .ok_or(EngineError::NotFound("wallet transaction"))?;
        let is_deposit = tx.transfer.code == i64::from(TransferCode::DepositFromCard.code())
            && tx.transfer.ref_kind.as_deref() == Some(ref_kind::PAYMENT);
        let payment = match (is_deposit, tx.transfer.ref_id) {
            (true, Some(payment_id)) => self.store.payment_fresh(merchant_id, payment_id).await?,
            _ => None,
        };
        let payment = payment.ok_or_else(|| EngineError::Refused {
            code: "4607",
            message: "only a card top-up (DEPOSIT_FROM_CARD) can be refunded to the card".into(),
        })?;
        Ok((tx, payment))
    }

    /// `GET /payment/v1/wallet-transactions/{id}/refundable-amount`: what is left of the
    /// top-up, at most what the wallet holds.
    pub async fn wallet_transaction_refundable(
        &self,
        merchant_id: i64,
        wallet_transaction_id: i64,
    ) -> Result<(i64, String)> {
        let tx = self
            .store
            .transfer_by_seq(merchant_id, wallet_transaction_id)
            .await?
            .ok_or(EngineError::NotFound("wallet transaction"))?;
        let currency = tx.transfer.currency.clone();
        let Ok((tx, payment)) = self
            .deposit_of_transaction(merchant_id, wallet_transaction_id)
            .await
        else {
            return Ok((0, currency));
        };
        let wallet = self
            .wallet(merchant_id, tx.transfer.credit_account_id)
            .await?;
        let (_, withdrawable) = wallet_amounts(&wallet);
        let left = payment.captured_minor - payment.refunded_minor;
        Ok((left.min(withdrawable).max(0), currency))
    }

    /// `POST /payment/v1/wallet-transactions/{id}/refunds`: part or all of a card top-up
    /// goes back to the card. The wallet is debited with a hold before the bank is asked;
    /// the hold is posted when the bank refunded and voided otherwise.
    pub async fn refund_wallet_transaction(
        &self,
        merchant_id: i64,
        wallet_transaction_id: i64,
        amount: MinorUnits,
    ) -> Result<RefundView> {
        let (tx, payment) = self
            .deposit_of_transaction(merchant_id, wallet_transaction_id)
            .await?;
        let wallet = self
            .wallet(merchant_id, tx.transfer.credit_account_id)
            .await?;
        let item = self
            .store
            .payment_items(payment.id)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| corrupt("deposit without item"))?;
        if amount.get() > item.paid_price_minor - item.refunded_minor {
            return Err(EngineError::Refused {
                code: "4306",
                message: "refundPrice exceeds the top-up's refundable amount".into(),
            });
        }
        self.check_refundable(&payment, None)?;
        let hold = RefundHold {
            wallet,
            code: TransferCode::RefundWalletTxToCard,
        };
        let whole = amount.get() == item.paid_price_minor && payment.refunded_minor == 0;
        let is_void = whole && self.same_local_day(&payment);
        let first = self
            .refund(
                payment.clone(),
                vec![(item.id, amount.get())],
                amount.get(),
                is_void,
                true,
                None,
                Some(hold.clone()),
            )
            .await;
        match first {
            Err(EngineError::Declined { group, .. })
                if is_void && group != ErrorGroup::NotSufficientFunds =>
            {
                self.refund(
                    payment,
                    vec![(item.id, amount.get())],
                    amount.get(),
                    false,
                    true,
                    None,
                    Some(hold),
                )
                .await
            }
            other => other,
        }
    }

    /// `GET /payment/v1/wallet-transactions/{id}/refunds`.
    pub async fn wallet_transaction_refunds(
        &self,
        merchant_id: i64,
        wallet_transaction_id: i64,
    ) -> Result<Vec<store::rows::RefundRow>> {
        let tx = self
            .store
            .transfer_by_seq(merchant_id, wallet_transaction_id)
            .await?
            .ok_or(EngineError::NotFound("wallet transaction"))?;
        match (tx.transfer.ref_kind.as_deref(), tx.transfer.ref_id) {
            (Some(ref_kind::PAYMENT), Some(payment_id))
                if tx.transfer.code == i64::from(TransferCode::DepositFromCard.code()) =>
            {
                Ok(self.store.refunds_of_payment(payment_id).await?)
            }
            _ => Ok(Vec::new()),
        }
    }

    // ---- the merchant's wallet, remittances, withdrawals --------------------------------

    /// `POST /wallet/v1/merchants/me/wallet/reset-balance`: sets the merchant's wallet
    /// (TRY) to `amount`, the difference moving against the settlement clearing account.
    pub async fn reset_merchant_wallet(
        &self,
        merchant_id: i64,
        amount: MinorUnits,
    ) -> Result<AccountRow> {
        let currency = Currency::Try;
        let wallet = self.merchant_wallet(merchant_id, currency).await?;
        let clearing = self
            .clearing_account(merchant_id, account_kind::SETTLEMENT_CLEARING, currency)
            .await?;
        let id = random_id();
        let template = NewTransfer {
            transfer_id: id.to_string(),
            merchant_id,
            debit_account_id: 0,
            credit_account_id: 0,
            amount: 0,
            currency: currency.code().to_owned(),
            kind: transfer_kind::SINGLE.to_owned(),
            pending_id: None,
            code: i64::from(TransferCode::MerchantBalanceReset.code()),
            ref_kind: Some(ref_kind::BALANCE_RESET.to_owned()),
            ref_id: None,
            doc: None,
            created_at: self.now_ms(),
        };
        match self
            .store
            .reset_wallet_balance(&wallet, clearing.id, amount.get(), template)
            .await?
        {
            None | Some(PostingOutcome::Applied { .. }) => {}
            Some(PostingOutcome::DebitRefused) => {
                return Err(transfer_error(TransferError::ExceedsLimit));
            }
            Some(other) => {
                return Err(EngineError::Internal(format!(
                    "balance reset refused: {other:?}"
                )));
            }
        }
        self.wallet(merchant_id, wallet.id).await
    }

    /// The wallet's posted transactions, newest first.
    pub async fn wallet_transactions(
        &self,
        merchant_id: i64,
        wallet_id: i64,
        filter: &WalletTransactionFilter,
        page: Page,
    ) -> Result<Paged<TransferRow>> {
        self.wallet(merchant_id, wallet_id).await?;
        Ok(self
            .store
            .search_wallet_transactions(merchant_id, wallet_id, filter, page)
            .await?)
    }

    /// `POST /wallet/v1/remittances/send|receive`: the merchant's wallet pays the member's
    /// wallet, or the other way round.
    pub async fn remittance(
        &self,
        merchant_id: i64,
        input: RemittanceInput,
    ) -> Result<TransferRow> {
        let member_wallet = self.member_wallet(merchant_id, input.member_id).await?;
        if member_wallet.currency != input.currency.code() {
            return Err(validation(
                "4604",
                format!(
                    "the member's wallet is in {}, not {}",
                    member_wallet.currency, input.currency
                ),
            ));
        }
        let merchant_wallet = self.merchant_wallet(merchant_id, input.currency).await?;
        let (debit, credit) = if input.send {
            (merchant_wallet.id, member_wallet.id)
        } else {
            (member_wallet.id, merchant_wallet.id)
        };
        let t = Transfer::single(
            random_id(),
            AccountId(debit),
            AccountId(credit),
            input.amount,
            input.currency,
            TransferCode::Remittance,
            self.now_ms(),
        );
        let meta = TransferMeta {
            ref_kind: Some(ref_kind::REMITTANCE),
            ref_id: None,
            doc: Some(serde_json::json!({
                "memberId": input.member_id,
                "remittanceType": if input.send { "SEND" } else { "RECEIVE" },
                "remittanceReasonType": input.reason,
                "description": input.description,
            })),
        };
        let applied = self
            .apply_transfer(merchant_id, &t, &meta)
            .await?
            .map_err(transfer_error)?;
        self.store
            .transfer_by_seq(merchant_id, applied.seq)
            .await?
            .ok_or_else(|| corrupt("remittance just written"))
    }

    /// `GET /wallet/v1/remittances/{id}`.
    pub async fn remittance_by_id(&self, merchant_id: i64, id: i64) -> Result<TransferRow> {
        self.store
            .transfer_by_seq(merchant_id, id)
            .await?
            .filter(|t| t.transfer.ref_kind.as_deref() == Some(ref_kind::REMITTANCE))
            .ok_or(EngineError::NotFound("remittance"))
    }

    /// `POST /wallet/v1/withdraws`: the money leaves the wallet at once (to the withdrawal
    /// clearing account) and waits there for its payout.
    pub async fn create_withdraw(
        &self,
        merchant_id: i64,
        member_id: i64,
        amount: MinorUnits,
        currency: Currency,
        description: Option<String>,
    ) -> Result<WithdrawRow> {
        let wallet = self.member_wallet(merchant_id, member_id).await?;
        if wallet.currency != currency.code() {
            return Err(validation(
                "4604",
                format!(
                    "the member's wallet is in {}, not {currency}",
                    wallet.currency
                ),
            ));
        }
        let clearing = self
            .clearing_account(merchant_id, account_kind::WITHDRAWAL_CLEARING, currency)
            .await?;
        let now = self.now_ms();
        let t = Transfer::single(
            random_id(),
            AccountId(wallet.id),
            AccountId(clearing.id),
            amount,
            currency,
            TransferCode::Withdraw,
            now,
        );
        let meta = TransferMeta::of(ref_kind::WITHDRAW, None);
        let mut posting = self
            .posting_for(merchant_id, &t, &meta)
            .await?
            .map_err(transfer_error)?;
        // Only money the wallet holds can be withdrawn, whatever its negative limit.
        posting.debit_limit_cap = Some(0);
        let row = WithdrawRow {
            id: 0,
            merchant_id,
            member_id,
            wallet_id: wallet.id,
            amount_minor: amount.get(),
            currency: currency.code().to_owned(),
            description,
            status: "ACTIVE".into(),
            payout_status: "WAITING_FOR_PAYOUT".into(),
            created_at: now,
            updated_at: now,
        };
        let (stored, outcome) = self.store.insert_withdraw(&row, posting).await?;
        match stored {
            Some(w) => Ok(w),
            None => {
                let error = self
                    .interpret(merchant_id, &t, outcome)
                    .await?
                    .err()
                    .unwrap_or(TransferError::ExceedsLimit);
                Err(transfer_error(error))
            }
        }
    }

    /// `POST /wallet/v1/withdraws/{id}/cancel`: a withdrawal still waiting for its payout is
    /// cancelled and its money returns to the wallet (WITHDRAW_CANCEL), once.
    pub async fn cancel_withdraw(&self, merchant_id: i64, id: i64) -> Result<WithdrawRow> {
        let withdraw = self.withdraw(merchant_id, id).await?;
        let currency = currency_of(&withdraw.currency)?;
        let clearing = self
            .clearing_account(merchant_id, account_kind::WITHDRAWAL_CLEARING, currency)
            .await?;
        let t = Transfer::single(
            derived_id(merchant_id, &format!("withdraw-cancel:{id}")),
            AccountId(clearing.id),
            AccountId(withdraw.wallet_id),
            MinorUnits::from_stored(withdraw.amount_minor),
            currency,
            TransferCode::WithdrawCancel,
            self.now_ms(),
        );
        let meta = TransferMeta::of(ref_kind::WITHDRAW, Some(id));
        let posting = self
            .posting_for(merchant_id, &t, &meta)
            .await?
            .map_err(transfer_error)?;
        match self
            .store
            .cancel_withdraw(merchant_id, id, &posting)
            .await?
        {
            None => Err(EngineError::Refused {
                code: "4605",
                message: "only a withdrawal waiting for its payout can be cancelled".into(),
            }),
            Some(PostingOutcome::Applied { .. }) => self.withdraw(merchant_id, id).await,
            Some(outcome) => {
                let error = self
                    .interpret(merchant_id, &t, outcome)
                    .await?
                    .err()
                    .unwrap_or(TransferError::Overflow);
                Err(transfer_error(error))
            }
        }
    }

    pub async fn withdraw(&self, merchant_id: i64, id: i64) -> Result<WithdrawRow> {
        self.store
            .withdraw(merchant_id, id)
            .await?
            .ok_or(EngineError::NotFound("withdraw"))
    }

    pub async fn search_withdraws(
        &self,
        merchant_id: i64,
        filter: &WithdrawFilter,
        page: Page,
    ) -> Result<Paged<WithdrawRow>> {
        Ok(self
            .store
            .search_withdraws(merchant_id, filter, page)
            .await?)
    }
}

fn ref_kind_static(kind: Option<&str>) -> Option<&'static str> {
    match kind? {
        ref_kind::PAYMENT => Some(ref_kind::PAYMENT),
        ref_kind::REFUND => Some(ref_kind::REFUND),
        ref_kind::WITHDRAW => Some(ref_kind::WITHDRAW),
        ref_kind::REMITTANCE => Some(ref_kind::REMITTANCE),
        ref_kind::BALANCE_RESET => Some(ref_kind::BALANCE_RESET),
        _ => None,
    }
}

// ---- group commit ----------------------------------------------------------------------

/// One transfer's result in a batch.
pub type TransferResult = std::result::Result<Applied, TransferError>;

struct Queued {
    merchant_id: i64,
    transfer: Transfer,
    meta: TransferMeta,
    reply: oneshot::Sender<Result<TransferResult>>,
}

/// Applies a batch of transfers in one database transaction, the way the ledger crate's
/// [`ledger::Ledger`] was built for: the touched accounts are locked and read (with the
/// stored transfers the batch replays or resolves), the ledger's own state machine applies
/// the batch in memory — each transfer on the balances the previous ones left, refusals
/// changing nothing, a replayed id applying once — its invariants are checked, and the new
/// transfers, balances and pending statuses are written back (one statement per kind of
/// row, not per transfer) and committed. Every guarantee of a single transfer holds; the
/// work per transfer drops to a few rows in multi-row statements and one commit per batch.
pub async fn apply_batch(
    engine: &Engine,
    items: &[(i64, Transfer, TransferMeta)],
) -> Result<Vec<TransferResult>> {
    let mut results: Vec<Option<TransferResult>> = vec![None; items.len()];
    let mut account_ids = Vec::with_capacity(items.len() * 2);
    let mut transfer_ids = Vec::with_capacity(items.len());
    let mut pending_ids = Vec::new();
    for (i, (_, t, _)) in items.iter().enumerate() {
        if let Err(e) = posting::validate(t) {
            results[i] = Some(Err(e));
            continue;
        }
        account_ids.push(t.debit_account_id.0);
        account_ids.push(t.credit_account_id.0);
        transfer_ids.push(t.id.to_string());
        if let Some(pending) = t.kind.pending_id() {
            transfer_ids.push(pending.to_string());
            pending_ids.push(pending.to_string());
        }
    }
    if account_ids.is_empty() {
        return Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(Err(TransferError::IdMustNotBeZero)))
            .collect());
    }
    let store = engine.store();
    let (batch, loaded) = store
        .begin_ledger_batch(&account_ids, &transfer_ids, &pending_ids)
        .await?;
    let rows: HashMap<i64, AccountRow> = loaded
        .accounts
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let statuses: HashMap<String, String> = loaded.pending.into_iter().collect();
    let mut stored: HashMap<TransferId, TransferRow> = HashMap::new();
    let mut known = Vec::with_capacity(loaded.transfers.len());
    for row in loaded.transfers {
        let t = ledger_transfer(&row.transfer)?;
        let status = match statuses.get(&row.transfer.transfer_id).map(String::as_str) {
            Some(pending_status::PENDING) => Some(PendingStatus::Pending),
            Some(pending_status::POSTED) => Some(PendingStatus::Posted),
            Some(pending_status::VOIDED) => Some(PendingStatus::Voided),
            _ => None,
        };
        known.push((t, status));
        stored.insert(t.id, row);
    }
    let states = rows
        .values()
        .map(account_state)
        .collect::<Result<Vec<_>>>()?;
    let mut ledger = ledger::Ledger::resume(states, known)
        .map_err(|e| corrupt(&format!("cannot resume the batch: {e}")))?;
    // Accounts, replays and pending transfers must be the transfer's merchant's.
    let belongs = |id: AccountId, merchant_id: i64| {
        rows.get(&id.0)
            .is_some_and(|r| r.merchant_id == merchant_id)
    };
    let mut to_apply = Vec::with_capacity(items.len());
    let mut positions = Vec::with_capacity(items.len());
    for (i, (merchant_id, t, _)) in items.iter().enumerate() {
        if results[i].is_some() {
            continue;
        }
        let refusal = if !belongs(t.debit_account_id, *merchant_id) {
            Some(TransferError::AccountNotFound(t.debit_account_id))
        } else if !belongs(t.credit_account_id, *merchant_id) {
            Some(TransferError::AccountNotFound(t.credit_account_id))
        } else if stored
            .get(&t.id)
            .is_some_and(|row| row.transfer.merchant_id != *merchant_id)
        {
            Some(TransferError::ExistsWithDifferentFields)
        } else if t.kind.pending_id().is_some_and(|p| {
            stored
                .get(&p)
                .is_some_and(|row| row.transfer.merchant_id != *merchant_id)
        }) {
            Some(TransferError::PendingNotFound)
        } else {
            None
        };
        match refusal {
            Some(e) => results[i] = Some(Err(e)),
            None => {
                to_apply.push(*t);
                positions.push(i);
            }
        }
    }
    let outcomes = ledger.create_transfers(&to_apply);
    if let Err(violations) = ledger.verify() {
        return Err(EngineError::Internal(format!(
            "ledger batch refused: it would break invariants {violations:?}"
        )));
    }
    let mut owner: HashMap<TransferId, usize> = HashMap::new();
    for (position, t) in positions.iter().zip(&to_apply) {
        owner.entry(t.id).or_insert(*position);
    }
    let mut new_rows = Vec::with_capacity(ledger.transfers().len());
    let mut opened = Vec::new();
    let mut resolved = Vec::new();
    for t in ledger.transfers() {
        let Some(&i) = owner.get(&t.id) else {
            return Err(corrupt("an applied transfer that was not in the batch"));
        };
        let (merchant_id, _, meta) = &items[i];
        new_rows.push(new_transfer(*merchant_id, t, meta));
        match t.kind {
            TransferKind::Pending => opened.push(t.id.to_string()),
            TransferKind::PostPending { pending_id } => {
                resolved.push((pending_id.to_string(), pending_status::POSTED))
            }
            TransferKind::VoidPending { pending_id } => {
                resolved.push((pending_id.to_string(), pending_status::VOIDED))
            }
            TransferKind::Single => {}
        }
    }
    let mut changes = Vec::new();
    for row in rows.values() {
        let before = [
            row.debits_pending,
            row.debits_posted,
            row.credits_pending,
            row.credits_posted,
        ];
        if let Some(b) = ledger.balances(AccountId(row.id)) {
            let after = [
                b.debits_pending,
                b.debits_posted,
                b.credits_pending,
                b.credits_posted,
            ];
            if after != before {
                changes.push(store::BalanceChange {
                    account_id: row.id,
                    before,
                    after,
                });
            }
        }
    }
    changes.sort_by_key(|c| c.account_id);
    let seqs = batch
        .commit(&new_rows, &changes, &opened, &resolved, engine.now_ms())
        .await?;
    let mut seq_of: HashMap<String, i64> = seqs.into_iter().collect();
    for row in stored.values() {
        seq_of.insert(row.transfer.transfer_id.clone(), row.seq);
    }
    for (k, outcome) in outcomes.into_iter().enumerate() {
        let i = positions[k];
        let t = &items[i].1;
        results[i] = Some(outcome.map(|outcome| Applied {
            outcome,
            seq: seq_of.get(&t.id.to_string()).copied().unwrap_or(0),
        }));
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(Err(TransferError::LinkedEventFailed)))
        .collect())
}

/// Group commit for single transfers: callers queue transfers; a few workers (one on
/// SQLite, which has one writer; several on PostgreSQL) each take whatever is queued, up to
/// `max_batch`, and apply it with [`apply_batch`]. No caller hears "applied" before the
/// batch's commit; under light load a batch is one transfer, so latency does not grow. If a
/// batch fails as a whole (a deadlock with a single-transfer writer, say), its transfers are
/// applied one by one instead.
pub struct LedgerBatcher {
    engine: Arc<Engine>,
    queue: mpsc::Sender<Queued>,
}

impl LedgerBatcher {
    /// Starts `workers` workers on the current runtime (they stop when the batcher is
    /// dropped).
    pub fn start(engine: Arc<Engine>, workers: usize, max_batch: usize) -> LedgerBatcher {
        let max_batch = max_batch.max(1);
        let (queue, receiver) = mpsc::channel::<Queued>(max_batch * 64);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..workers.max(1) {
            let engine = engine.clone();
            let receiver = receiver.clone();
            tokio::spawn(async move {
                loop {
                    let mut batch = Vec::with_capacity(max_batch);
                    {
                        let mut receiver = receiver.lock().await;
                        match receiver.recv().await {
                            Some(first) => batch.push(first),
                            None => return,
                        }
                        while batch.len() < max_batch {
                            match receiver.try_recv() {
                                Ok(next) => batch.push(next),
                                Err(_) => break,
                            }
                        }
                    }
                    let items: Vec<(i64, Transfer, TransferMeta)> = batch
                        .iter()
                        .map(|q| (q.merchant_id, q.transfer, q.meta.clone()))
                        .collect();
                    match apply_batch(&engine, &items).await {
                        Ok(results) => {
                            for (queued, result) in batch.into_iter().zip(results) {
                                let _ = queued.reply.send(Ok(result));
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%error, size = batch.len(), "ledger batch failed; applying its transfers one by one");
                            for q in batch {
                                let result = engine
                                    .apply_transfer(q.merchant_id, &q.transfer, &q.meta)
                                    .await;
                                let _ = q.reply.send(result);
                            }
                        }
                    }
                }
            });
        }
        LedgerBatcher { engine, queue }
    }

    /// [`Engine::apply_transfer`] through the group commit.
    pub async fn apply_transfer(
        &self,
        merchant_id: i64,
        t: &Transfer,
        meta: &TransferMeta,
    ) -> Result<TransferResult> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Queued {
                merchant_id,
                transfer: *t,
                meta: meta.clone(),
                reply,
            })
            .await
            .map_err(|_| EngineError::Internal("ledger batcher stopped".into()))?;
        answer
            .await
            .map_err(|_| EngineError::Internal("ledger batcher stopped".into()))?
    }

    /// [`Engine::wallet_transfer`] through the group commit.
    #[allow(clippy::too_many_arguments)]
    pub async fn wallet_transfer(
        &self,
        merchant_id: i64,
        id: TransferId,
        debit_account_id: i64,
        credit_account_id: i64,
        amount: MinorUnits,
        currency: Currency,
        code: TransferCode,
    ) -> Result<TransferResult> {
        let t = Transfer::single(
            id,
            AccountId(debit_account_id),
            AccountId(credit_account_id),
            amount,
            currency,
            code,
            self.engine.now_ms(),
        );
        self.apply_transfer(merchant_id, &t, &TransferMeta::default())
            .await
    }
}
