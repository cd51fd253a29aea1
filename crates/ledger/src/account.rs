//! Accounts and their balances: a wallet (a member's or the merchant's own) or a clearing
//! account that stands for money outside the closed loop (cards, banks, refunds).
//!
//! An account never stores "a balance": it stores four sums of transfer amounts,
//! `debits_pending`, `debits_posted`, `credits_pending` and `credits_posted`, each kept within
//! `0..=BALANCE_MAX`. A wallet's balance is `credits_posted - debits_posted`; a wallet may go
//! below zero only down to `-negative_amount_limit`, and pending debits count against it.

use domain::money::{Currency, MinorUnits};
use serde::{Deserialize, Serialize};

use crate::serde_minor_units;

/// Largest value any balance field may hold, in minor units (10^18).
///
/// Every field and every limit stays within `0..=BALANCE_MAX`, so the availability expression
/// `credits_posted - debits_posted - debits_pending + negative_amount_limit` can never
/// overflow a signed 64-bit integer (`BIGINT`), in Rust or in SQL. A transfer that would take
/// a field above it is refused with [`crate::TransferError::Overflow`].
pub const BALANCE_MAX: i64 = 1_000_000_000_000_000_000;

/// An account's id. Positive; the store keeps it in a `BIGINT` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub i64);

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What an account stands for. Wallet kinds are constrained by a negative amount limit;
/// clearing kinds are the other side of money entering or leaving the closed loop and are
/// unconstrained (a clearing account's balance is whatever the outside world owes or is owed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AccountKind {
    /// A member's wallet (Craftgate `WalletResponse` with a `memberId`).
    MemberWallet { member_id: i64 },
    /// The merchant's own wallet (`/wallet/v1/merchants/me/wallet`).
    MerchantWallet,
    /// Money arriving from card top-ups (`DEPOSIT_FROM_CARD`), and leaving back to cards.
    CardTopUpClearing,
    /// Card payments refunded into a wallet (`REFUND_TX_TO_WALLET`, …).
    RefundClearing,
    /// Money paid out of wallets to bank accounts (`WITHDRAW`).
    WithdrawalClearing,
    /// Remittances sent to or received from outside the wallet system (`REMITTANCE`).
    RemittanceClearing,
    /// Settlement earnings paid into a wallet (`SETTLEMENT_EARNINGS`).
    SettlementClearing,
}

impl AccountKind {
    /// Wallets hold members' (or the merchant's) money and carry a negative amount limit.
    pub fn is_wallet(self) -> bool {
        match self {
            AccountKind::MemberWallet { .. } | AccountKind::MerchantWallet => true,
            AccountKind::CardTopUpClearing
            | AccountKind::RefundClearing
            | AccountKind::WithdrawalClearing
            | AccountKind::RemittanceClearing
            | AccountKind::SettlementClearing => false,
        }
    }
}

/// An account's immutable description (its balances live in [`Balances`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub currency: Currency,
    pub kind: AccountKind,
    /// `Some(limit)`: debits (posted and pending) must not exceed `credits_posted + limit`,
    /// i.e. the balance may not go below `-limit` (Craftgate's `negativeAmountLimit`; TigerBeetle's
    /// `debits_must_not_exceed_credits`, plus an overdraft). Required for wallets, and
    /// `None` (unconstrained) for clearing accounts.
    #[serde(with = "serde_minor_units::option")]
    pub negative_amount_limit: Option<MinorUnits>,
}

impl Account {
    /// A member's wallet.
    pub fn member_wallet(
        id: AccountId,
        member_id: i64,
        currency: Currency,
        negative_amount_limit: MinorUnits,
    ) -> Account {
        Account {
            id,
            currency,
            kind: AccountKind::MemberWallet { member_id },
            negative_amount_limit: Some(negative_amount_limit),
        }
    }

    /// The merchant's own wallet.
    pub fn merchant_wallet(
        id: AccountId,
        currency: Currency,
        negative_amount_limit: MinorUnits,
    ) -> Account {
        Account {
            id,
            currency,
            kind: AccountKind::MerchantWallet,
            negative_amount_limit: Some(negative_amount_limit),
        }
    }

    /// An unconstrained clearing account of the given kind.
    pub fn clearing(id: AccountId, kind: AccountKind, currency: Currency) -> Account {
        Account {
            id,
            currency,
            kind,
            negative_amount_limit: None,
        }
    }

    /// Checks the description itself (not whether the id is taken).
    pub fn validate(&self) -> Result<(), AccountError> {
        if self.id.0 <= 0 {
            return Err(AccountError::IdMustBePositive);
        }
        if self.kind.is_wallet() != self.negative_amount_limit.is_some() {
            return Err(AccountError::LimitDoesNotFitKind);
        }
        check_limit_range(self.negative_amount_limit)
    }
}

pub(crate) fn check_limit_range(limit: Option<MinorUnits>) -> Result<(), AccountError> {
    match limit {
        Some(limit) if limit.get() > BALANCE_MAX => Err(AccountError::LimitTooLarge),
        _ => Ok(()),
    }
}

/// The four sums that make up an account's state, in minor units, each within
/// `0..=BALANCE_MAX`. They change only by applying transfers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Balances {
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
}

impl Balances {
    pub const ZERO: Balances = Balances {
        debits_pending: 0,
        debits_posted: 0,
        credits_pending: 0,
        credits_posted: 0,
    };

    /// `credits_posted - debits_posted`: a wallet's balance (Craftgate's `amount`). Pending
    /// transfers are not in it yet.
    pub fn posted(&self) -> i64 {
        // Exact while the fields are within 0..=BALANCE_MAX; saturating only so that a
        // corrupted value can never panic.
        self.credits_posted.saturating_sub(self.debits_posted)
    }

    /// How much more may be debited (posted or pending) from an account with this limit:
    /// `credits_posted - debits_posted - debits_pending + limit`. `None` for unconstrained
    /// accounts. Pending credits are not spendable until they are posted.
    pub fn available(&self, negative_amount_limit: Option<MinorUnits>) -> Option<i64> {
        negative_amount_limit.map(|limit| {
            self.credits_posted
                .saturating_sub(self.debits_posted)
                .saturating_sub(self.debits_pending)
                .saturating_add(limit.get())
        })
    }

    /// True when debits (posted and pending) stay within `credits_posted + limit`, or the
    /// account is unconstrained.
    pub fn within_limit(&self, negative_amount_limit: Option<MinorUnits>) -> bool {
        self.available(negative_amount_limit)
            .is_none_or(|available| available >= 0)
    }

    /// True when every field is within `0..=BALANCE_MAX`.
    pub fn in_range(&self) -> bool {
        [
            self.debits_pending,
            self.debits_posted,
            self.credits_pending,
            self.credits_posted,
        ]
        .iter()
        .all(|field| (0..=BALANCE_MAX).contains(field))
    }
}

/// An account together with its current balances: what the ledger keeps per account, and
/// what a store loads (locked) before applying transfers to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountState {
    pub account: Account,
    pub balances: Balances,
}

impl AccountState {
    /// A freshly created account: all balances zero.
    pub fn new(account: Account) -> AccountState {
        AccountState {
            account,
            balances: Balances::ZERO,
        }
    }
}

/// Why an account could not be created or changed. All of them are the caller's mistake or a
/// refusal; none is worth retrying unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountError {
    /// Account ids must be positive.
    #[error("account id must be positive")]
    IdMustBePositive,
    /// Wallets need a negative amount limit, clearing accounts must not have one.
    #[error("a wallet needs a negative amount limit and a clearing account must not have one")]
    LimitDoesNotFitKind,
    /// The limit is above [`BALANCE_MAX`].
    #[error("negative amount limit is too large")]
    LimitTooLarge,
    /// An account with this id exists and differs (an identical one is
    /// [`AccountOutcome::AlreadyCreated`]).
    #[error("an account with this id exists with different fields")]
    ExistsWithDifferentFields,
    /// No account with this id.
    #[error("account {0} not found")]
    AccountNotFound(AccountId),
    /// Lowering the limit would leave the wallet's debits above `credits_posted + limit`.
    #[error("the wallet's debits already exceed what the new limit allows")]
    ExceedsLimit,
}

/// A successful account creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountOutcome {
    Created,
    /// An identical account existed already; nothing changed (idempotent replay).
    AlreadyCreated,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(v: i64) -> MinorUnits {
        MinorUnits::from_stored(v)
    }

    #[test]
    fn wallets_need_a_limit_and_clearing_accounts_must_not_have_one() {
        let mut wallet = Account::member_wallet(AccountId(1), 7, Currency::Try, minor(0));
        assert_eq!(wallet.validate(), Ok(()));
        wallet.negative_amount_limit = None;
        assert_eq!(wallet.validate(), Err(AccountError::LimitDoesNotFitKind));

        let mut clearing =
            Account::clearing(AccountId(2), AccountKind::RefundClearing, Currency::Try);
        assert_eq!(clearing.validate(), Ok(()));
        clearing.negative_amount_limit = Some(minor(5));
        assert_eq!(clearing.validate(), Err(AccountError::LimitDoesNotFitKind));
    }

    #[test]
    fn account_ids_must_be_positive_and_limits_bounded() {
        let zero = Account::merchant_wallet(AccountId(0), Currency::Try, minor(0));
        assert_eq!(zero.validate(), Err(AccountError::IdMustBePositive));
        let negative = Account::merchant_wallet(AccountId(-3), Currency::Try, minor(0));
        assert_eq!(negative.validate(), Err(AccountError::IdMustBePositive));
        let huge = Account::merchant_wallet(AccountId(1), Currency::Try, minor(BALANCE_MAX + 1));
        assert_eq!(huge.validate(), Err(AccountError::LimitTooLarge));
    }

    #[test]
    fn available_counts_pending_debits_but_not_pending_credits() {
        let balances = Balances {
            debits_pending: 30,
            debits_posted: 50,
            credits_pending: 1_000,
            credits_posted: 100,
        };
        assert_eq!(balances.posted(), 50);
        assert_eq!(balances.available(Some(minor(10))), Some(30));
        assert_eq!(balances.available(None), None);
        assert!(balances.within_limit(Some(minor(0))));
        let overdrawn = Balances {
            debits_posted: 111,
            ..balances
        };
        assert!(!overdrawn.within_limit(Some(minor(10))));
        assert!(overdrawn.within_limit(None));
    }
}
