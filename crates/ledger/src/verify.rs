//! Invariant checks: replays the entries (independently of [`crate::posting`], so a bug there
//! cannot hide itself) and compares the result with the stored balances and pending statuses.
//!
//! What holds for a consistent ledger, and is checked here:
//! - every entry is well-formed (known accounts, one currency, posts and voids resolve an
//!   earlier pending transfer that was still pending, for at most / exactly its amount);
//! - each account's stored balances equal what its entries add up to;
//! - per currency, Σ `debits_posted` = Σ `credits_posted` and Σ `debits_pending` =
//!   Σ `credits_pending` over all accounts;
//! - every balance field is within `0..=BALANCE_MAX`, and no wallet's debits exceed its
//!   `credits_posted + negative_amount_limit`;
//! - each pending transfer's stored status is the one its post or void implies.

use std::collections::{BTreeMap, HashMap};

use domain::money::Currency;

use crate::account::{AccountId, AccountState, Balances};
use crate::transfer::{PendingStatus, Transfer, TransferError, TransferId, TransferKind};

/// One broken invariant. Any of them means the books are wrong (a bug, or rows edited behind
/// the ledger's back); none is a user error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvariantViolation {
    /// Debits and credits of one currency do not add up to the same sums.
    #[error(
        "{currency}: debits and credits differ (posted {debits_posted} vs {credits_posted}, pending {debits_pending} vs {credits_pending})"
    )]
    Unbalanced {
        currency: Currency,
        debits_posted: i128,
        credits_posted: i128,
        debits_pending: i128,
        credits_pending: i128,
    },
    /// An account's stored balances are not what its entries add up to.
    #[error(
        "account {account_id}: stored balances {stored:?} differ from its entries' {recomputed:?}"
    )]
    BalanceMismatch {
        account_id: AccountId,
        stored: Balances,
        recomputed: Balances,
    },
    /// A balance field is outside `0..=BALANCE_MAX`.
    #[error("account {account_id}: a balance is out of range: {balances:?}")]
    BalanceOutOfRange {
        account_id: AccountId,
        balances: Balances,
    },
    /// A wallet's debits exceed `credits_posted + negative_amount_limit`.
    #[error("account {account_id}: debits exceed credits plus the limit {negative_amount_limit}")]
    BelowLimit {
        account_id: AccountId,
        balances: Balances,
        negative_amount_limit: i64,
    },
    /// A pending transfer's stored status is not the one its entries imply.
    #[error(
        "pending transfer {pending_id}: stored status {stored:?}, its entries imply {recomputed:?}"
    )]
    PendingStatusMismatch {
        pending_id: TransferId,
        stored: Option<PendingStatus>,
        recomputed: Option<PendingStatus>,
    },
    /// An entry the ledger should never have accepted; `error` says why.
    #[error("entry {transfer_id}: {error}")]
    InvalidEntry {
        transfer_id: TransferId,
        error: TransferError,
    },
    /// The same account id appears twice.
    #[error("account {0} is listed twice")]
    DuplicateAccount(AccountId),
}

/// Checks a complete ledger read from storage: all accounts, all transfers in the order they
/// were applied, and the statuses of all pending transfers. This is `orkestra ledger verify`.
pub fn verify_entries<'a>(
    accounts: impl IntoIterator<Item = &'a AccountState>,
    transfers: &[Transfer],
    pending_statuses: &HashMap<TransferId, PendingStatus>,
) -> Result<(), Vec<InvariantViolation>> {
    let mut violations = Vec::new();
    let mut by_id = HashMap::new();
    for state in accounts {
        if by_id.insert(state.account.id, *state).is_some() {
            violations.push(InvariantViolation::DuplicateAccount(state.account.id));
        }
    }
    let books = Books {
        accounts: &by_id,
        opening: &HashMap::new(),
        opening_statuses: &HashMap::new(),
        known: &[],
        log: transfers,
    };
    violations.extend(check(&books, pending_statuses));
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// What a check looks at. `opening` and `known` describe the state a ledger was resumed
/// from (empty for a complete ledger): balances and pending statuses before the first entry
/// of `log`, and transfers applied before it (their effects are in `opening`).
pub(crate) struct Books<'a> {
    pub(crate) accounts: &'a HashMap<AccountId, AccountState>,
    pub(crate) opening: &'a HashMap<AccountId, Balances>,
    pub(crate) opening_statuses: &'a HashMap<TransferId, PendingStatus>,
    pub(crate) known: &'a [Transfer],
    pub(crate) log: &'a [Transfer],
}

/// Balances as sums in i128, so that replaying any entries cannot overflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Wide {
    debits_pending: i128,
    debits_posted: i128,
    credits_pending: i128,
    credits_posted: i128,
}

impl Wide {
    fn from_balances(balances: &Balances) -> Wide {
        Wide {
            debits_pending: balances.debits_pending.into(),
            debits_posted: balances.debits_posted.into(),
            credits_pending: balances.credits_pending.into(),
            credits_posted: balances.credits_posted.into(),
        }
    }

    fn narrow(&self) -> Balances {
        fn narrow(value: i128) -> i64 {
            i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
        }
        Balances {
            debits_pending: narrow(self.debits_pending),
            debits_posted: narrow(self.debits_posted),
            credits_pending: narrow(self.credits_pending),
            credits_posted: narrow(self.credits_posted),
        }
    }
}

struct Replay {
    balances: HashMap<AccountId, Wide>,
    statuses: HashMap<TransferId, PendingStatus>,
    problems: Vec<InvariantViolation>,
}

fn replay(books: &Books<'_>) -> Replay {
    let mut balances: HashMap<AccountId, Wide> = books
        .accounts
        .keys()
        .map(|id| {
            let opening = books.opening.get(id).copied().unwrap_or_default();
            (*id, Wide::from_balances(&opening))
        })
        .collect();
    let mut statuses = books.opening_statuses.clone();
    let mut seen: HashMap<TransferId, &Transfer> = books
        .known
        .iter()
        .map(|transfer| (transfer.id, transfer))
        .collect();
    let mut problems = Vec::new();
    for transfer in books.log {
        match replay_one(books, &seen, &mut statuses, transfer) {
            Ok((pending, posted)) => {
                if let Some(debit) = balances.get_mut(&transfer.debit_account_id) {
                    debit.debits_pending += pending;
                    debit.debits_posted += posted;
                }
                if let Some(credit) = balances.get_mut(&transfer.credit_account_id) {
                    credit.credits_pending += pending;
                    credit.credits_posted += posted;
                }
            }
            Err(error) => problems.push(InvariantViolation::InvalidEntry {
                transfer_id: transfer.id,
                error,
            }),
        }
        seen.entry(transfer.id).or_insert(transfer);
    }
    Replay {
        balances,
        statuses,
        problems,
    }
}

/// One entry's (pending, posted) deltas, or why it should not be in the log.
fn replay_one(
    books: &Books<'_>,
    seen: &HashMap<TransferId, &Transfer>,
    statuses: &mut HashMap<TransferId, PendingStatus>,
    transfer: &Transfer,
) -> Result<(i128, i128), TransferError> {
    if transfer.id.0 == 0 {
        return Err(TransferError::IdMustNotBeZero);
    }
    if seen.contains_key(&transfer.id) {
        return Err(TransferError::ExistsWithDifferentFields);
    }
    if transfer.debit_account_id == transfer.credit_account_id {
        return Err(TransferError::SameAccount);
    }
    if transfer.amount.is_zero() {
        return Err(TransferError::ZeroAmount);
    }
    for id in [transfer.debit_account_id, transfer.credit_account_id] {
        match books.accounts.get(&id) {
            None => return Err(TransferError::AccountNotFound(id)),
            Some(state) if state.account.currency != transfer.currency => {
                return Err(TransferError::CurrencyMismatch);
            }
            Some(_) => {}
        }
    }
    let amount = i128::from(transfer.amount.get());
    let (pending_id, posts) = match transfer.kind {
        TransferKind::Single => return Ok((0, amount)),
        TransferKind::Pending => {
            statuses.insert(transfer.id, PendingStatus::Pending);
            return Ok((amount, 0));
        }
        TransferKind::PostPending { pending_id } => (pending_id, true),
        TransferKind::VoidPending { pending_id } => (pending_id, false),
    };
    let pending = seen
        .get(&pending_id)
        .ok_or(TransferError::PendingNotFound)?;
    if pending.kind != TransferKind::Pending {
        return Err(TransferError::NotPending);
    }
    if (
        pending.debit_account_id,
        pending.credit_account_id,
        pending.currency,
    ) != (
        transfer.debit_account_id,
        transfer.credit_account_id,
        transfer.currency,
    ) {
        return Err(TransferError::PendingMismatch);
    }
    match statuses.get(&pending_id) {
        Some(PendingStatus::Pending) => {}
        Some(PendingStatus::Posted) => return Err(TransferError::PendingAlreadyPosted),
        Some(PendingStatus::Voided) => return Err(TransferError::PendingAlreadyVoided),
        None => return Err(TransferError::PendingNotFound),
    }
    let reserved = i128::from(pending.amount.get());
    if posts && amount > reserved {
        return Err(TransferError::PostAmountExceedsPending);
    }
    if !posts && amount != reserved {
        return Err(TransferError::PendingMismatch);
    }
    let status = if posts {
        PendingStatus::Posted
    } else {
        PendingStatus::Voided
    };
    statuses.insert(pending_id, status);
    Ok((-reserved, if posts { amount } else { 0 }))
}

/// Balances of every account as its entries (and the opening balances) add them up.
pub(crate) fn recompute(books: &Books<'_>) -> BTreeMap<AccountId, Balances> {
    replay(books)
        .balances
        .iter()
        .map(|(id, wide)| (*id, wide.narrow()))
        .collect()
}

/// Every violation, accounts in id order.
pub(crate) fn check(
    books: &Books<'_>,
    pending_statuses: &HashMap<TransferId, PendingStatus>,
) -> Vec<InvariantViolation> {
    let replay = replay(books);
    let mut violations = replay.problems;

    let mut ids: Vec<AccountId> = books.accounts.keys().copied().collect();
    ids.sort_unstable();
    let mut sums: HashMap<Currency, Wide> = HashMap::new();
    for id in ids {
        let Some(state) = books.accounts.get(&id) else {
            continue;
        };
        let stored = state.balances;
        let recomputed = replay.balances.get(&id).copied().unwrap_or_default();
        if Wide::from_balances(&stored) != recomputed {
            violations.push(InvariantViolation::BalanceMismatch {
                account_id: id,
                stored,
                recomputed: recomputed.narrow(),
            });
        }
        if !stored.in_range() {
            violations.push(InvariantViolation::BalanceOutOfRange {
                account_id: id,
                balances: stored,
            });
        }
        if let Some(limit) = state.account.negative_amount_limit {
            let debits = i128::from(stored.debits_posted) + i128::from(stored.debits_pending);
            if debits > i128::from(stored.credits_posted) + i128::from(limit.get()) {
                violations.push(InvariantViolation::BelowLimit {
                    account_id: id,
                    balances: stored,
                    negative_amount_limit: limit.get(),
                });
            }
        }
        // What moved since the opening balances; for a complete ledger that is everything.
        let opening = Wide::from_balances(&books.opening.get(&id).copied().unwrap_or_default());
        let now = Wide::from_balances(&stored);
        let sum = sums.entry(state.account.currency).or_default();
        sum.debits_pending += now.debits_pending - opening.debits_pending;
        sum.debits_posted += now.debits_posted - opening.debits_posted;
        sum.credits_pending += now.credits_pending - opening.credits_pending;
        sum.credits_posted += now.credits_posted - opening.credits_posted;
    }
    for currency in Currency::ALL {
        let Some(sum) = sums.get(&currency) else {
            continue;
        };
        if sum.debits_posted != sum.credits_posted || sum.debits_pending != sum.credits_pending {
            violations.push(InvariantViolation::Unbalanced {
                currency,
                debits_posted: sum.debits_posted,
                credits_posted: sum.credits_posted,
                debits_pending: sum.debits_pending,
                credits_pending: sum.credits_pending,
            });
        }
    }

    let mut pending_ids: Vec<TransferId> = replay
        .statuses
        .keys()
        .chain(pending_statuses.keys())
        .copied()
        .collect();
    pending_ids.sort_unstable();
    pending_ids.dedup();
    for pending_id in pending_ids {
        let stored = pending_statuses.get(&pending_id).copied();
        let recomputed = replay.statuses.get(&pending_id).copied();
        if stored != recomputed {
            violations.push(InvariantViolation::PendingStatusMismatch {
                pending_id,
                stored,
                recomputed,
            });
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Account, AccountKind};
    use crate::transfer::TransferCode;
    use domain::money::MinorUnits;

    fn minor(v: i64) -> MinorUnits {
        MinorUnits::from_stored(v)
    }

    fn accounts() -> Vec<AccountState> {
        vec![
            AccountState::new(Account::clearing(
                AccountId(1),
                AccountKind::CardTopUpClearing,
                Currency::Try,
            )),
            AccountState::new(Account::member_wallet(
                AccountId(2),
                7,
                Currency::Try,
                minor(0),
            )),
        ]
    }

    fn top_up(id: u128, amount: i64) -> Transfer {
        Transfer::single(
            TransferId(id),
            AccountId(1),
            AccountId(2),
            minor(amount),
            Currency::Try,
            TransferCode::DepositFromCard,
            0,
        )
    }

    fn with_balances(
        mut states: Vec<AccountState>,
        clearing: Balances,
        wallet: Balances,
    ) -> Vec<AccountState> {
        states[0].balances = clearing;
        states[1].balances = wallet;
        states
    }

    fn posted_debit(v: i64) -> Balances {
        Balances {
            debits_posted: v,
            ..Balances::ZERO
        }
    }

    fn posted_credit(v: i64) -> Balances {
        Balances {
            credits_posted: v,
            ..Balances::ZERO
        }
    }

    #[test]
    fn consistent_books_verify() {
        let states = with_balances(accounts(), posted_debit(150), posted_credit(150));
        let transfers = [top_up(1, 100), top_up(2, 50)];
        assert_eq!(verify_entries(&states, &transfers, &HashMap::new()), Ok(()));
    }

    #[test]
    fn a_balance_edited_behind_the_ledgers_back_is_found() {
        let states = with_balances(accounts(), posted_debit(150), posted_credit(151));
        let transfers = [top_up(1, 100), top_up(2, 50)];
        let violations = verify_entries(&states, &transfers, &HashMap::new()).unwrap_err();
        assert!(violations.contains(&InvariantViolation::BalanceMismatch {
            account_id: AccountId(2),
            stored: posted_credit(151),
            recomputed: posted_credit(150),
        }));
        assert!(violations.iter().any(|v| matches!(
            v,
            InvariantViolation::Unbalanced {
                currency: Currency::Try,
                debits_posted: 150,
                credits_posted: 151,
                ..
            }
        )));
    }

    #[test]
    fn a_wallet_below_its_limit_is_found() {
        // The wallet (id 2) pays 10 to the clearing account with nothing in it.
        let states = with_balances(accounts(), posted_credit(10), posted_debit(10));
        let transfers = [Transfer::single(
            TransferId(1),
            AccountId(2),
            AccountId(1),
            minor(10),
            Currency::Try,
            TransferCode::Withdraw,
            0,
        )];
        let violations = verify_entries(&states, &transfers, &HashMap::new()).unwrap_err();
        assert_eq!(
            violations,
            vec![InvariantViolation::BelowLimit {
                account_id: AccountId(2),
                balances: posted_debit(10),
                negative_amount_limit: 0,
            }]
        );
    }

    #[test]
    fn duplicate_ids_double_posts_and_wrong_statuses_are_found() {
        let pending = Transfer {
            kind: TransferKind::Pending,
            ..top_up(1, 100)
        };
        let post = Transfer::post_pending(TransferId(2), &pending, minor(100), 0);
        let post_again = Transfer::post_pending(TransferId(3), &pending, minor(100), 0);
        let duplicate = top_up(2, 5);
        let states = with_balances(accounts(), posted_debit(100), posted_credit(100));
        let statuses = HashMap::from([(pending.id, PendingStatus::Pending)]);
        let violations =
            verify_entries(&states, &[pending, post, post_again, duplicate], &statuses)
                .unwrap_err();
        assert_eq!(
            violations,
            vec![
                InvariantViolation::InvalidEntry {
                    transfer_id: TransferId(3),
                    error: TransferError::PendingAlreadyPosted,
                },
                InvariantViolation::InvalidEntry {
                    transfer_id: TransferId(2),
                    error: TransferError::ExistsWithDifferentFields,
                },
                InvariantViolation::PendingStatusMismatch {
                    pending_id: TransferId(1),
                    stored: Some(PendingStatus::Pending),
                    recomputed: Some(PendingStatus::Posted),
                },
            ]
        );
    }

    #[test]
    fn entries_with_unknown_accounts_or_currencies_are_found() {
        let states = accounts();
        let unknown = Transfer {
            credit_account_id: AccountId(9),
            ..top_up(1, 5)
        };
        let usd = Transfer {
            currency: Currency::Usd,
            ..top_up(2, 5)
        };
        let violations = verify_entries(&states, &[unknown, usd], &HashMap::new()).unwrap_err();
        assert_eq!(
            violations,
            vec![
                InvariantViolation::InvalidEntry {
                    transfer_id: TransferId(1),
                    error: TransferError::AccountNotFound(AccountId(9)),
                },
                InvariantViolation::InvalidEntry {
                    transfer_id: TransferId(2),
                    error: TransferError::CurrencyMismatch,
                },
            ]
        );
    }

    #[test]
    fn an_account_listed_twice_is_found() {
        let mut states = accounts();
        states.push(states[0]);
        assert_eq!(
            verify_entries(&states, &[], &HashMap::new()),
            Err(vec![InvariantViolation::DuplicateAccount(AccountId(1))])
        );
    }
}
