//! The rules of one transfer, as pure functions over the rows it touches: the in-memory
//! [`crate::Ledger`] calls them, and so does the store, so both refuse exactly the same things.
//!
//! [`apply_transfer`] is the whole rule: given the transfer, its two accounts with their
//! current balances, and (for a post or void) the pending transfer with its status, it returns
//! the new balances or the error. Its parts are public too, for a store that expresses the
//! balance checks as conditional `UPDATE`s instead of reading rows first:
//! [`validate`] (the transfer alone), [`check_accounts`], [`check_pending`],
//! [`Effect::of`] (the deltas) and [`debit`]/[`credit`] (the balance checks).
//!
//! # The same checks in SQL
//!
//! With `BALANCE_MAX` = 10^18 and `Effect { pending, posted }` from [`Effect::of`], the
//! debit account's update is
//!
//! ```sql
//! UPDATE ledger_accounts
//!    SET debits_pending = debits_pending + $pending,
//!        debits_posted  = debits_posted  + $posted
//!  WHERE id = $debit_account_id AND currency = $currency
//!    AND (negative_amount_limit IS NULL OR $pending + $posted <= 0
//!         OR credits_posted - debits_posted - debits_pending + negative_amount_limit
//!            >= $pending + $posted)
//!    AND debits_pending + $pending BETWEEN 0 AND 1000000000000000000
//!    AND debits_posted  + $posted  BETWEEN 0 AND 1000000000000000000
//! ```
//!
//! (for a single or pending transfer `$pending + $posted` is the amount, so the limit
//! condition reads `credits_posted - debits_posted - debits_pending + limit >= $amount`;
//! posts and voids never increase debits and skip it), and the credit account's is
//!
//! ```sql
//! UPDATE ledger_accounts
//!    SET credits_pending = credits_pending + $pending,
//!        credits_posted  = credits_posted  + $posted
//!  WHERE id = $credit_account_id AND currency = $currency
//!    AND credits_pending + $pending BETWEEN 0 AND 1000000000000000000
//!    AND credits_posted  + $posted  BETWEEN 0 AND 1000000000000000000
//! ```
//!
//! Because every field and limit stays within `0..=BALANCE_MAX`, none of these expressions can
//! overflow a `BIGINT` (SQLite would otherwise silently switch to floating point).
//! A post or void first claims its pending transfer, exactly once, with
//! `UPDATE ledger_pending SET status = 'posted' WHERE id = $pending_id AND status = 'pending'`.
//! The transfer row is inserted with `ON CONFLICT (id) DO NOTHING`; when no row was inserted,
//! the existing row decides between [`crate::TransferOutcome::AlreadyApplied`]
//! ([`crate::Transfer::same_request_as`]) and [`TransferError::ExistsWithDifferentFields`].
//! All of it runs in one database transaction; when an `UPDATE` matches no row, the store
//! rolls back and calls [`apply_transfer`] on the rows it reads to name the error. Updating
//! the two accounts in ascending id order keeps concurrent transfers from deadlocking.

use domain::money::MinorUnits;

use crate::account::{AccountState, BALANCE_MAX, Balances};
use crate::transfer::{PendingStatus, Transfer, TransferError, TransferKind};

/// What a transfer adds to its debit account's `debits_pending` / `debits_posted` and,
/// identically (that is the double entry), to its credit account's `credits_pending` /
/// `credits_posted`. Negative values release pending amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Effect {
    pub pending: i64,
    pub posted: i64,
}

impl Effect {
    /// The deltas of `transfer`. A post or void needs its pending transfer (`pending`), whose
    /// whole amount leaves the pending fields; without it they are refused with
    /// [`TransferError::PendingNotFound`].
    ///
    /// | kind    | `pending`             | `posted`         |
    /// |---------|-----------------------|------------------|
    /// | single  | 0                     | amount           |
    /// | pending | amount                | 0                |
    /// | post    | −pending amount       | amount (≤ it)    |
    /// | void    | −pending amount       | 0                |
    pub fn of(transfer: &Transfer, pending: Option<&Transfer>) -> Result<Effect, TransferError> {
        let amount = transfer.amount.get();
        let released = || {
            pending
                .map(|pending| -pending.amount.get())
                .ok_or(TransferError::PendingNotFound)
        };
        Ok(match transfer.kind {
            TransferKind::Single => Effect {
                pending: 0,
                posted: amount,
            },
            TransferKind::Pending => Effect {
                pending: amount,
                posted: 0,
            },
            TransferKind::PostPending { .. } => Effect {
                pending: released()?,
                posted: amount,
            },
            TransferKind::VoidPending { .. } => Effect {
                pending: released()?,
                posted: 0,
            },
        })
    }

    /// How much the debit account's debits (posted plus pending) grow: what its limit must
    /// allow. Zero or negative for posts and voids.
    pub fn debits_increase(self) -> i128 {
        i128::from(self.pending) + i128::from(self.posted)
    }
}

/// The transfer a post or void references, with its current status (`None` when it is not
/// a pending transfer: only pending transfers have one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingRef<'a> {
    pub transfer: &'a Transfer,
    pub status: Option<PendingStatus>,
}

/// The result of applying one transfer: the deltas, both accounts' new balances, and the new
/// status of the pending transfer it resolves (for posts and voids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    pub effect: Effect,
    pub debit: Balances,
    pub credit: Balances,
    pub pending_status: Option<PendingStatus>,
}

/// Checks what can be checked from the transfer alone: a non-zero id, two different accounts
/// and a non-zero amount.
pub fn validate(transfer: &Transfer) -> Result<(), TransferError> {
    if transfer.id.0 == 0 {
        return Err(TransferError::IdMustNotBeZero);
    }
    if transfer.debit_account_id == transfer.credit_account_id {
        return Err(TransferError::SameAccount);
    }
    if transfer.amount.is_zero() {
        return Err(TransferError::ZeroAmount);
    }
    Ok(())
}

/// Checks that `debit` and `credit` are the transfer's accounts and share its currency.
pub fn check_accounts(
    transfer: &Transfer,
    debit: &AccountState,
    credit: &AccountState,
) -> Result<(), TransferError> {
    if debit.account.id != transfer.debit_account_id {
        return Err(TransferError::AccountNotFound(transfer.debit_account_id));
    }
    if credit.account.id != transfer.credit_account_id {
        return Err(TransferError::AccountNotFound(transfer.credit_account_id));
    }
    if debit.account.currency != transfer.currency || credit.account.currency != transfer.currency {
        return Err(TransferError::CurrencyMismatch);
    }
    Ok(())
}

/// For a post or void: checks it against the transfer it references (`pending`, `None` when
/// there is no such transfer), which must be a pending transfer with the same accounts and
/// currency, still pending, and for at least the post's amount or exactly the void's.
/// Single and pending transfers pass.
pub fn check_pending(
    transfer: &Transfer,
    pending: Option<PendingRef<'_>>,
) -> Result<(), TransferError> {
    let Some(pending_id) = transfer.kind.pending_id() else {
        return Ok(());
    };
    let Some(pending) = pending.filter(|pending| pending.transfer.id == pending_id) else {
        return Err(TransferError::PendingNotFound);
    };
    if pending.transfer.kind != TransferKind::Pending {
        return Err(TransferError::NotPending);
    }
    if pending.transfer.debit_account_id != transfer.debit_account_id
        || pending.transfer.credit_account_id != transfer.credit_account_id
        || pending.transfer.currency != transfer.currency
    {
        return Err(TransferError::PendingMismatch);
    }
    match pending.status {
        Some(PendingStatus::Pending) => {}
        Some(PendingStatus::Posted) => return Err(TransferError::PendingAlreadyPosted),
        Some(PendingStatus::Voided) => return Err(TransferError::PendingAlreadyVoided),
        // A pending transfer without a status: the state is inconsistent.
        None => return Err(TransferError::PendingNotFound),
    }
    match transfer.kind {
        TransferKind::PostPending { .. } if transfer.amount > pending.transfer.amount => {
            Err(TransferError::PostAmountExceedsPending)
        }
        TransferKind::VoidPending { .. } if transfer.amount != pending.transfer.amount => {
            Err(TransferError::PendingMismatch)
        }
        _ => Ok(()),
    }
}

/// The debit account's balances after `effect`: refused with [`TransferError::ExceedsLimit`]
/// when debits grow beyond `credits_posted + negative_amount_limit`, and with
/// [`TransferError::Overflow`] when a field would leave `0..=BALANCE_MAX`.
pub fn debit(
    balances: &Balances,
    negative_amount_limit: Option<MinorUnits>,
    effect: Effect,
) -> Result<Balances, TransferError> {
    debug_assert!(balances.in_range(), "debit account balances out of range");
    let increase = effect.debits_increase();
    if let Some(limit) = negative_amount_limit.filter(|_| increase > 0) {
        // In i128: the sum of two fields and an amount cannot overflow it.
        let debits = i128::from(balances.debits_posted) + i128::from(balances.debits_pending);
        let allowed = i128::from(balances.credits_posted) + i128::from(limit.get());
        if debits + increase > allowed {
            return Err(TransferError::ExceedsLimit);
        }
    }
    Ok(Balances {
        debits_pending: add(balances.debits_pending, effect.pending)?,
        debits_posted: add(balances.debits_posted, effect.posted)?,
        ..*balances
    })
}

/// The credit account's balances after `effect` (credits are never limited).
pub fn credit(balances: &Balances, effect: Effect) -> Result<Balances, TransferError> {
    debug_assert!(balances.in_range(), "credit account balances out of range");
    Ok(Balances {
        credits_pending: add(balances.credits_pending, effect.pending)?,
        credits_posted: add(balances.credits_posted, effect.posted)?,
        ..*balances
    })
}

fn add(field: i64, delta: i64) -> Result<i64, TransferError> {
    field
        .checked_add(delta)
        .filter(|sum| (0..=BALANCE_MAX).contains(sum))
        .ok_or(TransferError::Overflow)
}

/// Applies `transfer` to its accounts' current states, refusing it exactly as the ledger
/// does; everything but idempotency (has this id been applied?) and looking rows up.
///
/// The caller looks up the two accounts (refusing with [`TransferError::AccountNotFound`]
/// when one is missing) and, for a post or void, the referenced transfer (passing `None`
/// when there is none). The checks then run in this order, the same as in
/// [`crate::Ledger::create_transfers`]: [`validate`], [`check_pending`], [`check_accounts`],
/// then the debit limit and the ranges ([`debit`], [`credit`]).
pub fn apply_transfer(
    transfer: &Transfer,
    debit_account: &AccountState,
    credit_account: &AccountState,
    pending: Option<PendingRef<'_>>,
) -> Result<Posting, TransferError> {
    validate(transfer)?;
    check_pending(transfer, pending)?;
    check_accounts(transfer, debit_account, credit_account)?;
    let effect = Effect::of(transfer, pending.map(|pending| pending.transfer))?;
    let debit_balances = debit(
        &debit_account.balances,
        debit_account.account.negative_amount_limit,
        effect,
    )?;
    let credit_balances = credit(&credit_account.balances, effect)?;
    let pending_status = match transfer.kind {
        TransferKind::Single | TransferKind::Pending => None,
        TransferKind::PostPending { .. } => Some(PendingStatus::Posted),
        TransferKind::VoidPending { .. } => Some(PendingStatus::Voided),
    };
    let posting = Posting {
        effect,
        debit: debit_balances,
        credit: credit_balances,
        pending_status,
    };
    assert_posting(debit_account, credit_account, &posting);
    Ok(posting)
}

/// Pair assertions on a built posting: the debit side moved exactly as the credit side, both
/// stay in range, and a wallet within its limit stays within it.
fn assert_posting(debit_account: &AccountState, credit_account: &AccountState, posting: &Posting) {
    let before_debit = debit_account.balances;
    let before_credit = credit_account.balances;
    debug_assert_eq!(
        posting.debit.debits_pending - before_debit.debits_pending,
        posting.credit.credits_pending - before_credit.credits_pending,
        "pending debits and credits moved differently"
    );
    debug_assert_eq!(
        posting.debit.debits_posted - before_debit.debits_posted,
        posting.credit.credits_posted - before_credit.credits_posted,
        "posted debits and credits moved differently"
    );
    debug_assert_eq!(
        (posting.debit.credits_pending, posting.debit.credits_posted),
        (before_debit.credits_pending, before_debit.credits_posted),
        "a debit changed the debit account's credits"
    );
    debug_assert_eq!(
        (posting.credit.debits_pending, posting.credit.debits_posted),
        (before_credit.debits_pending, before_credit.debits_posted),
        "a credit changed the credit account's debits"
    );
    debug_assert!(posting.debit.in_range() && posting.credit.in_range());
    let limit = debit_account.account.negative_amount_limit;
    debug_assert!(
        !before_debit.within_limit(limit) || posting.debit.within_limit(limit),
        "a debit took a wallet below its limit"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Account, AccountId, AccountKind};
    use crate::transfer::{TransferCode, TransferId};
    use domain::money::Currency;
    use proptest::prelude::*;

    fn minor(v: i64) -> MinorUnits {
        MinorUnits::from_stored(v)
    }

    fn wallet(balances: Balances, limit: i64) -> AccountState {
        AccountState {
            account: Account::member_wallet(AccountId(1), 10, Currency::Try, minor(limit)),
            balances,
        }
    }

    fn clearing(balances: Balances) -> AccountState {
        AccountState {
            account: Account::clearing(AccountId(2), AccountKind::CardTopUpClearing, Currency::Try),
            balances,
        }
    }

    fn single(amount: i64) -> Transfer {
        Transfer::single(
            TransferId(1),
            AccountId(1),
            AccountId(2),
            minor(amount),
            Currency::Try,
            TransferCode::Withdraw,
            0,
        )
    }

    fn funded(credits_posted: i64) -> Balances {
        Balances {
            credits_posted,
            ..Balances::ZERO
        }
    }

    #[test]
    fn effects_follow_the_table() {
        let pending = Transfer {
            kind: TransferKind::Pending,
            ..single(100)
        };
        let post = Transfer::post_pending(TransferId(2), &pending, minor(60), 0);
        let void = Transfer::void_pending(TransferId(3), &pending, 0);
        assert_eq!(
            Effect::of(&single(7), None),
            Ok(Effect {
                pending: 0,
                posted: 7
            })
        );
        assert_eq!(
            Effect::of(&pending, None),
            Ok(Effect {
                pending: 100,
                posted: 0
            })
        );
        assert_eq!(
            Effect::of(&post, Some(&pending)),
            Ok(Effect {
                pending: -100,
                posted: 60
            })
        );
        assert_eq!(
            Effect::of(&void, Some(&pending)),
            Ok(Effect {
                pending: -100,
                posted: 0
            })
        );
        assert_eq!(Effect::of(&post, None), Err(TransferError::PendingNotFound));
        assert_eq!(
            Effect::of(&post, Some(&pending)).map(Effect::debits_increase),
            Ok(-40)
        );
    }

    #[test]
    fn the_limit_counts_pending_debits_and_allows_exactly_the_available_amount() {
        let balances = Balances {
            debits_pending: 20,
            debits_posted: 30,
            credits_pending: 500,
            credits_posted: 100,
        };
        // available = 100 - 30 - 20 + 10 = 60
        let account = wallet(balances, 10);
        let credit = clearing(Balances::ZERO);
        assert!(apply_transfer(&single(60), &account, &credit, None).is_ok());
        assert_eq!(
            apply_transfer(&single(61), &account, &credit, None),
            Err(TransferError::ExceedsLimit)
        );
    }

    #[test]
    fn a_clearing_account_may_be_debited_without_limit_but_not_past_balance_max() {
        let debit_account = AccountState {
            account: Account::clearing(AccountId(1), AccountKind::CardTopUpClearing, Currency::Try),
            balances: Balances::ZERO,
        };
        let credit_account = AccountState {
            account: Account::member_wallet(AccountId(2), 3, Currency::Try, minor(0)),
            balances: Balances::ZERO,
        };
        let posting = apply_transfer(&single(BALANCE_MAX), &debit_account, &credit_account, None);
        assert_eq!(posting.map(|p| p.credit.posted()), Ok(BALANCE_MAX));
        assert_eq!(
            apply_transfer(
                &single(BALANCE_MAX + 1),
                &debit_account,
                &credit_account,
                None
            ),
            Err(TransferError::Overflow)
        );
    }

    #[test]
    fn wrong_rows_are_refused_rather_than_applied() {
        let account = wallet(funded(100), 0);
        let credit = clearing(Balances::ZERO);
        // The store passed the rows the other way round.
        assert_eq!(
            apply_transfer(&single(1), &credit, &account, None),
            Err(TransferError::AccountNotFound(AccountId(1)))
        );
        let usd = AccountState {
            account: Account {
                currency: Currency::Usd,
                ..credit.account
            },
            ..credit
        };
        assert_eq!(
            apply_transfer(&single(1), &account, &usd, None),
            Err(TransferError::CurrencyMismatch)
        );
    }

    #[test]
    fn a_post_that_names_another_pending_transfer_is_refused() {
        let pending = Transfer {
            kind: TransferKind::Pending,
            ..single(50)
        };
        let other = Transfer {
            id: TransferId(99),
            ..pending
        };
        let post = Transfer::post_pending(TransferId(2), &pending, minor(50), 0);
        let wrong = PendingRef {
            transfer: &other,
            status: Some(PendingStatus::Pending),
        };
        assert_eq!(
            check_pending(&post, Some(wrong)),
            Err(TransferError::PendingNotFound)
        );
    }

    fn arb_balances() -> impl Strategy<Value = Balances> {
        let field = 0..=BALANCE_MAX;
        (field.clone(), field.clone(), field.clone(), field).prop_map(|(dp, dpo, cp, cpo)| {
            Balances {
                debits_pending: dp,
                debits_posted: dpo,
                credits_pending: cp,
                credits_posted: cpo,
            }
        })
    }

    proptest! {
        /// Whatever the (in-range) balances and amount, the rule never panics, and an applied
        /// transfer keeps every field in range, mirrors debit and credit, and respects the limit.
        #[test]
        fn applying_a_transfer_keeps_ranges_mirror_and_limit(
            debit_balances in arb_balances(),
            credit_balances in arb_balances(),
            limit in 0..=BALANCE_MAX,
            amount in 0..=i64::MAX,
            pending_kind in any::<bool>(),
        ) {
            let transfer = Transfer {
                kind: if pending_kind { TransferKind::Pending } else { TransferKind::Single },
                ..single(amount)
            };
            let debit_account = wallet(debit_balances, limit);
            let credit_account = clearing(credit_balances);
            match apply_transfer(&transfer, &debit_account, &credit_account, None) {
                Ok(posting) => {
                    prop_assert!(posting.debit.in_range() && posting.credit.in_range());
                    prop_assert!(posting.debit.within_limit(Some(minor(limit))));
                    let debited = i128::from(posting.debit.debits_posted + posting.debit.debits_pending)
                        - i128::from(debit_balances.debits_posted + debit_balances.debits_pending);
                    prop_assert_eq!(debited, i128::from(amount));
                }
                Err(error) => prop_assert!(matches!(
                    error,
                    TransferError::ZeroAmount | TransferError::ExceedsLimit | TransferError::Overflow
                )),
            }
        }
    }
}
