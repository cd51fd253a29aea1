//! Transfers: the ledger's only entries. Each moves one amount from one account (debit) to
//! another (credit) in one currency, and is never changed or removed once applied.
//!
//! Two-step flows (a card top-up that waits for the card payment) use a [`TransferKind::Pending`]
//! transfer, later resolved by exactly one [`TransferKind::PostPending`] (possibly for less:
//! the rest is released) or [`TransferKind::VoidPending`]. A transfer's id is its idempotency
//! key: applying the same transfer twice moves money once.

use std::fmt;
use std::str::FromStr;

use domain::money::{Currency, MinorUnits};
use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::serde_minor_units;

/// A transfer's id, chosen by the caller (a random UUID's 128 bits, say) and used as the
/// idempotency key. Zero is refused: it is the value of an id someone forgot to set.
///
/// Displays (and parses) as 32 lower-case hex digits, which a store can keep in a text column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TransferId(pub u128);

impl fmt::Display for TransferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// A string that is not 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a transfer id is 32 hex digits")]
pub struct InvalidTransferId;

impl FromStr for TransferId {
    type Err = InvalidTransferId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidTransferId);
        }
        u128::from_str_radix(s, 16)
            .map(TransferId)
            .map_err(|_| InvalidTransferId)
    }
}

/// How a transfer changes balances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TransferKind {
    /// Posted at once: `debits_posted` and `credits_posted` grow by the amount.
    Single,
    /// Reserved: `debits_pending` and `credits_pending` grow by the amount, until a post or
    /// a void resolves it. Pending debits count against the debit wallet's limit; pending
    /// credits are not spendable.
    Pending,
    /// Posts the pending transfer `pending_id`: its whole amount leaves the pending fields and
    /// this transfer's amount (at most the pending amount; the rest is released) is posted.
    PostPending { pending_id: TransferId },
    /// Releases the pending transfer `pending_id`; this transfer's amount must equal it.
    VoidPending { pending_id: TransferId },
}

impl TransferKind {
    /// The pending transfer this one resolves, for posts and voids.
    pub fn pending_id(self) -> Option<TransferId> {
        match self {
            TransferKind::Single | TransferKind::Pending => None,
            TransferKind::PostPending { pending_id } | TransferKind::VoidPending { pending_id } => {
                Some(pending_id)
            }
        }
    }
}

/// What a transfer is for: Craftgate's `WalletTransactionType`, with a stable number for the
/// store (`code()`), like TigerBeetle's `code` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransferCode {
    PaymentRedeem,
    RefundDeposit,
    RefundTxDeposit,
    Withdraw,
    CancelRefundWalletToCard,
    RefundWalletTxToCard,
    RefundWalletTxFundTransfer,
    CancelRefundToWallet,
    RefundTxToWallet,
    ManualRefundTxToWallet,
    SettlementEarnings,
    DepositFromCard,
    DepositFromApm,
    DepositFromFundTransfer,
    Remittance,
    Loyalty,
    WithdrawCancel,
    MerchantBalanceReset,
}

impl TransferCode {
    /// Every code, in the order of their numbers (1 = `PAYMENT_REDEEM`).
    pub const ALL: [TransferCode; 18] = [
        TransferCode::PaymentRedeem,
        TransferCode::RefundDeposit,
        TransferCode::RefundTxDeposit,
        TransferCode::Withdraw,
        TransferCode::CancelRefundWalletToCard,
        TransferCode::RefundWalletTxToCard,
        TransferCode::RefundWalletTxFundTransfer,
        TransferCode::CancelRefundToWallet,
        TransferCode::RefundTxToWallet,
        TransferCode::ManualRefundTxToWallet,
        TransferCode::SettlementEarnings,
        TransferCode::DepositFromCard,
        TransferCode::DepositFromApm,
        TransferCode::DepositFromFundTransfer,
        TransferCode::Remittance,
        TransferCode::Loyalty,
        TransferCode::WithdrawCancel,
        TransferCode::MerchantBalanceReset,
    ];

    /// The stable number stored for this code (1..=18). Never renumber: rows keep it.
    pub fn code(self) -> u16 {
        match self {
            TransferCode::PaymentRedeem => 1,
            TransferCode::RefundDeposit => 2,
            TransferCode::RefundTxDeposit => 3,
            TransferCode::Withdraw => 4,
            TransferCode::CancelRefundWalletToCard => 5,
            TransferCode::RefundWalletTxToCard => 6,
            TransferCode::RefundWalletTxFundTransfer => 7,
            TransferCode::CancelRefundToWallet => 8,
            TransferCode::RefundTxToWallet => 9,
            TransferCode::ManualRefundTxToWallet => 10,
            TransferCode::SettlementEarnings => 11,
            TransferCode::DepositFromCard => 12,
            TransferCode::DepositFromApm => 13,
            TransferCode::DepositFromFundTransfer => 14,
            TransferCode::Remittance => 15,
            TransferCode::Loyalty => 16,
            TransferCode::WithdrawCancel => 17,
            TransferCode::MerchantBalanceReset => 18,
        }
    }

    pub fn from_code(code: u16) -> Option<TransferCode> {
        TransferCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Craftgate's name (`DEPOSIT_FROM_CARD`).
    pub fn as_str(self) -> &'static str {
        match self {
            TransferCode::PaymentRedeem => "PAYMENT_REDEEM",
            TransferCode::RefundDeposit => "REFUND_DEPOSIT",
            TransferCode::RefundTxDeposit => "REFUND_TX_DEPOSIT",
            TransferCode::Withdraw => "WITHDRAW",
            TransferCode::CancelRefundWalletToCard => "CANCEL_REFUND_WALLET_TO_CARD",
            TransferCode::RefundWalletTxToCard => "REFUND_WALLET_TX_TO_CARD",
            TransferCode::RefundWalletTxFundTransfer => "REFUND_WALLET_TX_FUND_TRANSFER",
            TransferCode::CancelRefundToWallet => "CANCEL_REFUND_TO_WALLET",
            TransferCode::RefundTxToWallet => "REFUND_TX_TO_WALLET",
            TransferCode::ManualRefundTxToWallet => "MANUAL_REFUND_TX_TO_WALLET",
            TransferCode::SettlementEarnings => "SETTLEMENT_EARNINGS",
            TransferCode::DepositFromCard => "DEPOSIT_FROM_CARD",
            TransferCode::DepositFromApm => "DEPOSIT_FROM_APM",
            TransferCode::DepositFromFundTransfer => "DEPOSIT_FROM_FUND_TRANSFER",
            TransferCode::Remittance => "REMITTANCE",
            TransferCode::Loyalty => "LOYALTY",
            TransferCode::WithdrawCancel => "WITHDRAW_CANCEL",
            TransferCode::MerchantBalanceReset => "MERCHANT_BALANCE_RESET",
        }
    }
}

impl fmt::Display for TransferCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One double-entry movement: `amount` leaves `debit_account_id` and arrives at
/// `credit_account_id`, both in `currency`.
///
/// For a post or a void, the accounts and currency must be those of the pending transfer
/// (so that every entry describes itself); [`Transfer::post_pending`] and
/// [`Transfer::void_pending`] copy them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub id: TransferId,
    pub debit_account_id: AccountId,
    pub credit_account_id: AccountId,
    #[serde(with = "serde_minor_units")]
    pub amount: MinorUnits,
    pub currency: Currency,
    pub kind: TransferKind,
    pub code: TransferCode,
    /// Links this transfer with the next one in the same batch: a chain of linked transfers
    /// (ending with the first one whose `linked` is false) is applied all or nothing.
    pub linked: bool,
    /// When the caller created it, in UTC epoch milliseconds. Informational: it is not part
    /// of the idempotency comparison, so a retry made later still counts as the same transfer.
    pub timestamp_ms: i64,
}

impl Transfer {
    /// A transfer posted at once.
    pub fn single(
        id: TransferId,
        debit_account_id: AccountId,
        credit_account_id: AccountId,
        amount: MinorUnits,
        currency: Currency,
        code: TransferCode,
        timestamp_ms: i64,
    ) -> Transfer {
        Transfer {
            id,
            debit_account_id,
            credit_account_id,
            amount,
            currency,
            kind: TransferKind::Single,
            code,
            linked: false,
            timestamp_ms,
        }
    }

    /// A reservation, to be posted or voided later.
    pub fn pending(
        id: TransferId,
        debit_account_id: AccountId,
        credit_account_id: AccountId,
        amount: MinorUnits,
        currency: Currency,
        code: TransferCode,
        timestamp_ms: i64,
    ) -> Transfer {
        Transfer {
            kind: TransferKind::Pending,
            ..Transfer::single(
                id,
                debit_account_id,
                credit_account_id,
                amount,
                currency,
                code,
                timestamp_ms,
            )
        }
    }

    /// Posts `amount` (at most the pending amount) of `pending`; the rest is released.
    pub fn post_pending(
        id: TransferId,
        pending: &Transfer,
        amount: MinorUnits,
        timestamp_ms: i64,
    ) -> Transfer {
        Transfer {
            id,
            amount,
            kind: TransferKind::PostPending {
                pending_id: pending.id,
            },
            linked: false,
            timestamp_ms,
            ..*pending
        }
    }

    /// Releases `pending` in full.
    pub fn void_pending(id: TransferId, pending: &Transfer, timestamp_ms: i64) -> Transfer {
        Transfer {
            id,
            kind: TransferKind::VoidPending {
                pending_id: pending.id,
            },
            linked: false,
            timestamp_ms,
            ..*pending
        }
    }

    /// The same transfer as `other`, for idempotency: every field but the timestamp equal.
    pub fn same_request_as(&self, other: &Transfer) -> bool {
        Transfer {
            timestamp_ms: other.timestamp_ms,
            ..*self
        } == *other
    }
}

/// Where a pending transfer stands. Derived state (like balances): it follows from the
/// post or void transfer that references it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingStatus {
    Pending,
    Posted,
    Voided,
}

/// A successful transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferOutcome {
    /// Applied now.
    Applied,
    /// A transfer with this id and the same fields was applied before; nothing moved now.
    AlreadyApplied,
}

/// Why a transfer was not applied. Nothing changed when one is returned; a failed transfer's
/// id is not remembered, so the same transfer may succeed later (after a top-up, say).
///
/// The caller's decision: `ExceedsLimit`, `PendingAlreadyPosted` and `PendingAlreadyVoided`
/// are business refusals (decline); `ExistsWithDifferentFields` is a reused idempotency key;
/// `LinkedEventFailed` means "see the other transfer in the chain"; everything else is a
/// request that is wrong as written (a bug or bad input).
///
/// The variants are declared in the order they are checked: when several apply, the first is
/// reported, by the ledger and by [`crate::posting::apply_transfer`] alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferError {
    /// Transfer id 0 is reserved for "not set".
    #[error("transfer id must not be zero")]
    IdMustNotBeZero,
    /// Debit and credit account are the same.
    #[error("debit and credit account are the same")]
    SameAccount,
    /// The amount is zero.
    #[error("amount must be greater than zero")]
    ZeroAmount,
    /// A different transfer was applied under this id.
    #[error("a transfer with this id exists with different fields")]
    ExistsWithDifferentFields,
    /// No account with this id.
    #[error("account {0} not found")]
    AccountNotFound(AccountId),
    /// A post or void names a transfer that does not exist.
    #[error("pending transfer not found")]
    PendingNotFound,
    /// A post or void names a transfer that is not a pending transfer.
    #[error("the referenced transfer is not a pending transfer")]
    NotPending,
    /// A post or void has other accounts or currency than its pending transfer, or a void
    /// has another amount (checked after the status, where a post's amount is).
    #[error("post or void differs from its pending transfer")]
    PendingMismatch,
    /// The pending transfer was posted already.
    #[error("pending transfer already posted")]
    PendingAlreadyPosted,
    /// The pending transfer was voided already.
    #[error("pending transfer already voided")]
    PendingAlreadyVoided,
    /// A post for more than was reserved.
    #[error("post amount exceeds the pending amount")]
    PostAmountExceedsPending,
    /// The transfer's currency is not that of both accounts.
    #[error("currency differs from the accounts' currency")]
    CurrencyMismatch,
    /// The debit wallet would go below `-negative_amount_limit` (pending debits included).
    #[error("the debit account's limit would be exceeded")]
    ExceedsLimit,
    /// A balance would leave `0..=BALANCE_MAX`.
    #[error("a balance would overflow")]
    Overflow,
    /// Another transfer in this transfer's linked chain failed, so this one was not applied.
    #[error("another transfer in the linked chain failed")]
    LinkedEventFailed,
    /// The batch ended inside a linked chain (its last transfer has `linked` set).
    #[error("the batch ends inside a linked chain")]
    LinkedEventChainOpen,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Transfer {
        Transfer::pending(
            TransferId(0xfeed),
            AccountId(1),
            AccountId(2),
            MinorUnits::from_stored(500),
            Currency::Try,
            TransferCode::DepositFromCard,
            1_700_000_000_000,
        )
    }

    #[test]
    fn transfer_codes_are_numbered_one_to_eighteen_and_round_trip() {
        for (i, code) in TransferCode::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(code.code()), i + 1);
            assert_eq!(TransferCode::from_code(code.code()), Some(code));
        }
        assert_eq!(TransferCode::from_code(0), None);
        assert_eq!(TransferCode::from_code(19), None);
        assert_eq!(
            TransferCode::DepositFromCard.to_string(),
            "DEPOSIT_FROM_CARD"
        );
    }

    #[test]
    fn transfer_ids_print_and_parse_as_32_hex_digits() {
        let id = TransferId(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(id.to_string(), "0123456789abcdef0011223344556677");
        assert_eq!(id.to_string().parse::<TransferId>(), Ok(id));
        assert_eq!("12".parse::<TransferId>(), Err(InvalidTransferId));
        assert_eq!(
            "+123456789abcdef0011223344556677".parse::<TransferId>(),
            Err(InvalidTransferId)
        );
    }

    #[test]
    fn a_retry_with_another_timestamp_is_the_same_request() {
        let first = t();
        let retry = Transfer {
            timestamp_ms: first.timestamp_ms + 5_000,
            ..first
        };
        assert!(first.same_request_as(&retry));
        let other = Transfer {
            amount: MinorUnits::from_stored(501),
            ..first
        };
        assert!(!first.same_request_as(&other));
    }

    #[test]
    fn post_and_void_copy_the_pending_transfers_accounts_and_currency() {
        let pending = t();
        let post = Transfer::post_pending(TransferId(2), &pending, MinorUnits::from_stored(3), 9);
        assert_eq!(post.debit_account_id, pending.debit_account_id);
        assert_eq!(post.credit_account_id, pending.credit_account_id);
        assert_eq!(post.currency, pending.currency);
        assert_eq!(post.amount.get(), 3);
        assert_eq!(post.kind.pending_id(), Some(pending.id));
        let void = Transfer::void_pending(TransferId(3), &pending, 9);
        assert_eq!(void.amount, pending.amount);
        assert_eq!(
            void.kind,
            TransferKind::VoidPending {
                pending_id: pending.id
            }
        );
        assert_eq!(pending.kind.pending_id(), None);
    }
}
