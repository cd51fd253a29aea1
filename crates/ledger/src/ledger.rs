//! The in-memory ledger: a state machine over accounts and an append-only list of transfers.
//!
//! It is the reference model (property tests drive it with random batches and check
//! [`Ledger::verify`] after each) and the core a store calls per batch: load the touched
//! accounts (locked) and the relevant transfers, [`Ledger::resume`] from them, run
//! [`Ledger::create_transfers`], and write back [`Ledger::transfers`] and the changed
//! balances and pending statuses, all in one database transaction.
//!
//! A batch is processed in order, each transfer on the state the previous ones left; a
//! transfer is independent of its neighbours unless `linked` chains it to the next one.

use std::collections::{BTreeMap, HashMap};

use domain::money::MinorUnits;

use crate::account::{
    Account, AccountError, AccountId, AccountOutcome, AccountState, Balances, check_limit_range,
};
use crate::posting::{self, PendingRef};
use crate::transfer::{
    PendingStatus, Transfer, TransferError, TransferId, TransferKind, TransferOutcome,
};
use crate::verify::{self, Books, InvariantViolation};

/// Accounts, their balances, every transfer applied (never changed or removed), and the
/// status of every pending transfer.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    accounts: HashMap<AccountId, AccountState>,
    /// Balances of resumed accounts when they were loaded; absent means zero.
    opening: HashMap<AccountId, Balances>,
    /// Statuses of resumed pending transfers when they were loaded.
    opening_statuses: HashMap<TransferId, PendingStatus>,
    /// Resumed transfers first (`..logged_from`), then those applied here, in order.
    transfers: Vec<Transfer>,
    logged_from: usize,
    index: HashMap<TransferId, usize>,
    pending: HashMap<TransferId, PendingStatus>,
}

/// Why [`Ledger::resume`] refused the state it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    #[error("account {0} given twice")]
    DuplicateAccount(AccountId),
    #[error("account {0} is invalid or its balances are out of range")]
    InvalidAccount(AccountId),
    #[error("transfer {0} given twice")]
    DuplicateTransfer(TransferId),
    /// A pending transfer needs its status, a transfer of another kind must not have one.
    #[error("transfer {0}: a pending transfer needs a status, and only a pending transfer")]
    PendingStatus(TransferId),
}

/// What a linked chain needs to undo one applied transfer.
struct Undo {
    debit: AccountState,
    credit: AccountState,
    resolved: Option<TransferId>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// A ledger that continues from stored state: `accounts` with their current balances, and
    /// `transfers` applied earlier (each pending one with its status), which this ledger needs
    /// to recognise replays and to post or void pending transfers. It need not be the whole
    /// ledger, only what the next batch touches. [`Ledger::transfers`] then lists only the
    /// transfers applied after resuming, and [`Ledger::verify`] checks what changed since.
    pub fn resume(
        accounts: impl IntoIterator<Item = AccountState>,
        transfers: impl IntoIterator<Item = (Transfer, Option<PendingStatus>)>,
    ) -> Result<Ledger, ResumeError> {
        let mut ledger = Ledger::new();
        for state in accounts {
            let id = state.account.id;
            if state.account.validate().is_err() || !state.balances.in_range() {
                return Err(ResumeError::InvalidAccount(id));
            }
            if ledger.accounts.insert(id, state).is_some() {
                return Err(ResumeError::DuplicateAccount(id));
            }
            ledger.opening.insert(id, state.balances);
        }
        for (transfer, status) in transfers {
            if (transfer.kind == TransferKind::Pending) != status.is_some() {
                return Err(ResumeError::PendingStatus(transfer.id));
            }
            if ledger
                .index
                .insert(transfer.id, ledger.transfers.len())
                .is_some()
            {
                return Err(ResumeError::DuplicateTransfer(transfer.id));
            }
            ledger.transfers.push(transfer);
            if let Some(status) = status {
                ledger.pending.insert(transfer.id, status);
                ledger.opening_statuses.insert(transfer.id, status);
            }
        }
        ledger.logged_from = ledger.transfers.len();
        Ok(ledger)
    }

    /// Creates accounts, in order, each with zero balances. Creating an identical account
    /// again is [`AccountOutcome::AlreadyCreated`] (an account whose limit was changed since
    /// is no longer identical).
    pub fn create_accounts(
        &mut self,
        accounts: &[Account],
    ) -> Vec<Result<AccountOutcome, AccountError>> {
        accounts
            .iter()
            .map(|account| {
                account.validate()?;
                match self.accounts.get(&account.id) {
                    Some(existing) if existing.account == *account => {
                        Ok(AccountOutcome::AlreadyCreated)
                    }
                    Some(_) => Err(AccountError::ExistsWithDifferentFields),
                    None => {
                        self.accounts
                            .insert(account.id, AccountState::new(*account));
                        Ok(AccountOutcome::Created)
                    }
                }
            })
            .collect()
    }

    /// Changes a wallet's negative amount limit (Craftgate's `UpdateWalletRequest`). Refused
    /// for clearing accounts, and when the wallet already owes more than the new limit allows
    /// (store: `UPDATE … SET negative_amount_limit = $limit WHERE id = $id AND
    /// negative_amount_limit IS NOT NULL AND debits_posted + debits_pending <= credits_posted
    /// + $limit`).
    pub fn set_negative_amount_limit(
        &mut self,
        account_id: AccountId,
        negative_amount_limit: MinorUnits,
    ) -> Result<(), AccountError> {
        let state = self
            .accounts
            .get_mut(&account_id)
            .ok_or(AccountError::AccountNotFound(account_id))?;
        if state.account.negative_amount_limit.is_none() {
            return Err(AccountError::LimitDoesNotFitKind);
        }
        check_limit_range(Some(negative_amount_limit))?;
        if !state.balances.within_limit(Some(negative_amount_limit)) {
            return Err(AccountError::ExceedsLimit);
        }
        state.account.negative_amount_limit = Some(negative_amount_limit);
        Ok(())
    }

    /// Applies a batch of transfers in order and returns one result per transfer.
    ///
    /// A transfer whose id was applied before is [`TransferOutcome::AlreadyApplied`] when
    /// its fields (all but the timestamp) are the same, and
    /// [`TransferError::ExistsWithDifferentFields`] otherwise; either way nothing moves.
    /// A failed transfer changes nothing. Transfers with `linked` set form a chain with the
    /// transfers after them, up to and including the first without it: when one fails, none
    /// of them is applied, the failed one reports its error and the others
    /// [`TransferError::LinkedEventFailed`]. A chain still open at the end of the batch fails
    /// with [`TransferError::LinkedEventChainOpen`].
    pub fn create_transfers(
        &mut self,
        transfers: &[Transfer],
    ) -> Vec<Result<TransferOutcome, TransferError>> {
        let mut results = Vec::with_capacity(transfers.len());
        // Grow once per batch rather than rehashing part-way through it.
        self.transfers.reserve(transfers.len());
        self.index.reserve(transfers.len());
        let mut rest = transfers;
        while let Some(first) = rest.first() {
            let chain_len = rest
                .iter()
                .position(|transfer| !transfer.linked)
                .map_or(rest.len(), |last| last + 1);
            if chain_len == 1 && !first.linked {
                results.push(self.create_transfer(first, None));
            } else {
                let chain = rest.get(..chain_len).unwrap_or_default();
                self.create_chain(chain, &mut results);
            }
            rest = rest.get(chain_len..).unwrap_or_default();
        }
        debug_assert_eq!(results.len(), transfers.len());
        results
    }

    fn create_chain(
        &mut self,
        chain: &[Transfer],
        results: &mut Vec<Result<TransferOutcome, TransferError>>,
    ) {
        let first = results.len();
        let open = chain.last().is_some_and(|last| last.linked);
        let mut undo = Vec::with_capacity(chain.len());
        let mut failed = false;
        for (i, transfer) in chain.iter().enumerate() {
            let result = if failed {
                Err(TransferError::LinkedEventFailed)
            } else if open && i + 1 == chain.len() {
                Err(TransferError::LinkedEventChainOpen)
            } else {
                self.create_transfer(transfer, Some(&mut undo))
            };
            failed |= result.is_err();
            results.push(result);
        }
        if failed {
            self.roll_back(undo);
            for result in results.iter_mut().skip(first) {
                if result.is_ok() {
                    *result = Err(TransferError::LinkedEventFailed);
                }
            }
        }
    }

    fn create_transfer(
        &mut self,
        transfer: &Transfer,
        undo: Option<&mut Vec<Undo>>,
    ) -> Result<TransferOutcome, TransferError> {
        posting::validate(transfer)?;
        if let Some(existing) = self.transfer(transfer.id) {
            return if existing.same_request_as(transfer) {
                Ok(TransferOutcome::AlreadyApplied)
            } else {
                Err(TransferError::ExistsWithDifferentFields)
            };
        }
        let debit = self.account_state(transfer.debit_account_id)?;
        let credit = self.account_state(transfer.credit_account_id)?;
        let pending = transfer.kind.pending_id().and_then(|pending_id| {
            self.transfer(pending_id).map(|pending| PendingRef {
                transfer: pending,
                status: self.pending_status(pending_id),
            })
        });
        let posting = posting::apply_transfer(transfer, &debit, &credit, pending)?;

        if let Some(undo) = undo {
            undo.push(Undo {
                debit,
                credit,
                resolved: transfer.kind.pending_id(),
            });
        }
        self.set_balances(transfer.debit_account_id, posting.debit);
        self.set_balances(transfer.credit_account_id, posting.credit);
        if let (Some(pending_id), Some(status)) =
            (transfer.kind.pending_id(), posting.pending_status)
        {
            self.pending.insert(pending_id, status);
        }
        if transfer.kind == TransferKind::Pending {
            self.pending.insert(transfer.id, PendingStatus::Pending);
        }
        self.index.insert(transfer.id, self.transfers.len());
        self.transfers.push(*transfer);

        // Pair assertions: read the balances back.
        debug_assert_eq!(
            self.balances(transfer.debit_account_id),
            Some(posting.debit)
        );
        debug_assert_eq!(
            self.balances(transfer.credit_account_id),
            Some(posting.credit)
        );
        Ok(TransferOutcome::Applied)
    }

    fn account_state(&self, id: AccountId) -> Result<AccountState, TransferError> {
        self.accounts
            .get(&id)
            .copied()
            .ok_or(TransferError::AccountNotFound(id))
    }

    fn set_balances(&mut self, id: AccountId, balances: Balances) {
        if let Some(state) = self.accounts.get_mut(&id) {
            state.balances = balances;
        }
    }

    /// Undoes a failed chain's applied transfers, newest first.
    fn roll_back(&mut self, undo: Vec<Undo>) {
        for step in undo.into_iter().rev() {
            self.set_balances(step.debit.account.id, step.debit.balances);
            self.set_balances(step.credit.account.id, step.credit.balances);
            if let Some(pending_id) = step.resolved {
                self.pending.insert(pending_id, PendingStatus::Pending);
            }
            debug_assert!(self.transfers.len() > self.logged_from);
            if let Some(transfer) = self.transfers.pop() {
                self.index.remove(&transfer.id);
                if transfer.kind == TransferKind::Pending {
                    self.pending.remove(&transfer.id);
                }
            }
        }
    }

    /// An account and its balances.
    pub fn account(&self, id: AccountId) -> Option<&AccountState> {
        self.accounts.get(&id)
    }

    /// An account's balances.
    pub fn balances(&self, id: AccountId) -> Option<Balances> {
        self.accounts.get(&id).map(|state| state.balances)
    }

    /// Every account, in no particular order.
    pub fn accounts(&self) -> impl Iterator<Item = &AccountState> {
        self.accounts.values()
    }

    /// A transfer applied here or given to [`Ledger::resume`].
    pub fn transfer(&self, id: TransferId) -> Option<&Transfer> {
        self.index
            .get(&id)
            .and_then(|position| self.transfers.get(*position))
    }

    /// The transfers applied (since resuming, if resumed), in the order they were applied.
    pub fn transfers(&self) -> &[Transfer] {
        self.transfers.get(self.logged_from..).unwrap_or_default()
    }

    /// A pending transfer's status; `None` for other transfers and unknown ids.
    pub fn pending_status(&self, id: TransferId) -> Option<PendingStatus> {
        self.pending.get(&id).copied()
    }

    /// Every pending transfer's status, in no particular order.
    pub fn pending_statuses(&self) -> impl Iterator<Item = (TransferId, PendingStatus)> + '_ {
        self.pending.iter().map(|(id, status)| (*id, *status))
    }

    fn books(&self) -> Books<'_> {
        Books {
            accounts: &self.accounts,
            opening: &self.opening,
            opening_statuses: &self.opening_statuses,
            known: self.transfers.get(..self.logged_from).unwrap_or_default(),
            log: self.transfers(),
        }
    }

    /// Every account's balances as its transfers add them up (plus its balances when
    /// resumed), computed independently of the stored balances.
    pub fn balances_recomputed_from_transfers(&self) -> BTreeMap<AccountId, Balances> {
        verify::recompute(&self.books())
    }

    /// Checks every invariant (see [`crate::verify`]): debits equal credits per currency,
    /// each account's balances equal its entries, no balance out of range or below its
    /// limit, pending statuses as the entries imply. For a resumed ledger the sums cover what
    /// moved since resuming.
    pub fn verify(&self) -> Result<(), Vec<InvariantViolation>> {
        let violations = verify::check(&self.books(), &self.pending);
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }
}

#[cfg(test)]
mod tests;
