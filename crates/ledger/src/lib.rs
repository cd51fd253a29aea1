//! Orkestra's double-entry ledger for closed-loop wallets: members' wallets, the merchant's
//! wallet, and clearing accounts for money entering or leaving the loop (card top-ups,
//! refunds, withdrawals, remittances). Pure: no IO, no async.
//!
//! Principal types: [`Account`] (with its [`Balances`]: `debits_pending`, `debits_posted`,
//! `credits_pending`, `credits_posted`), [`Transfer`] (single, pending, post or void a pending
//! one), and [`Ledger`], the in-memory state machine that applies batches of transfers and
//! checks its invariants ([`Ledger::verify`]). The rules of one transfer live in [`posting`]
//! as pure functions, so a store applies exactly the same rules, and [`verify_entries`]
//! checks a whole stored ledger.
//!
//! Every movement is one transfer between two accounts in one currency; transfers are
//! immutable and idempotent by id; balances are sums of transfers and can always be
//! recomputed from them; a wallet's debits (posted and pending) never exceed its posted
//! credits plus its negative amount limit.
//!
//! ```
//! use domain::money::{Currency, MinorUnits};
//! use ledger::{Account, AccountId, AccountKind, Ledger, Transfer, TransferCode, TransferId};
//! use ledger::{TransferError, TransferOutcome};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let try_ = Currency::Try;
//! let (cards, alice, bob) = (AccountId(1), AccountId(2), AccountId(3));
//! let mut ledger = Ledger::new();
//! for result in ledger.create_accounts(&[
//!     Account::clearing(cards, AccountKind::CardTopUpClearing, try_),
//!     Account::member_wallet(alice, 100, try_, MinorUnits::ZERO),
//!     Account::member_wallet(bob, 101, try_, MinorUnits::ZERO),
//! ]) {
//!     result?;
//! }
//!
//! // Alice tops up 100.00 TRY by card: pending until the card payment succeeds.
//! let top_up = Transfer::pending(
//!     TransferId(10), cards, alice, MinorUnits::from_stored(10_000), try_,
//!     TransferCode::DepositFromCard, 1_700_000_000_000,
//! );
//! ledger.create_transfers(&[top_up]).remove(0)?;
//! // Pending credits are not spendable yet.
//! let pay = Transfer::single(
//!     TransferId(11), alice, bob, MinorUnits::from_stored(2_500), try_,
//!     TransferCode::Remittance, 1_700_000_001_000,
//! );
//! assert_eq!(ledger.create_transfers(&[pay]), [Err(TransferError::ExceedsLimit)]);
//!
//! // The card payment succeeded: post the top-up, then pay Bob 25.00.
//! let post = Transfer::post_pending(TransferId(12), &top_up, top_up.amount, 1_700_000_002_000);
//! assert_eq!(
//!     ledger.create_transfers(&[post, pay, pay]),
//!     [Ok(TransferOutcome::Applied), Ok(TransferOutcome::Applied), Ok(TransferOutcome::AlreadyApplied)],
//! );
//! assert_eq!(ledger.balances(alice).map(|b| b.posted()), Some(7_500));
//! assert_eq!(ledger.balances(bob).map(|b| b.posted()), Some(2_500));
//! assert_eq!(ledger.balances(cards).map(|b| b.posted()), Some(-10_000));
//! ledger.verify().map_err(|violations| format!("{violations:?}"))?;
//! # Ok(())
//! # }
//! ```

pub mod account;
pub mod ledger;
pub mod posting;
mod serde_minor_units;
pub mod transfer;
pub mod verify;

pub use account::{
    Account, AccountError, AccountId, AccountKind, AccountOutcome, AccountState, BALANCE_MAX,
    Balances,
};
pub use ledger::{Ledger, ResumeError};
pub use posting::{Effect, PendingRef, Posting, apply_transfer};
pub use transfer::{
    InvalidTransferId, PendingStatus, Transfer, TransferCode, TransferError, TransferId,
    TransferKind, TransferOutcome,
};
pub use verify::{InvariantViolation, verify_entries};
