//! Tests of the ledger state machine: one per error and flow, then property tests that drive
//! it with random batches (valid and invalid transfers, replays, posts and voids of random
//! pending transfers, linked chains) and check every invariant after each batch.

use super::*;
use crate::account::{AccountKind, BALANCE_MAX};
use crate::transfer::TransferCode;
use domain::money::Currency;
use proptest::prelude::*;

const CARDS: AccountId = AccountId(1);
const REFUNDS: AccountId = AccountId(2);
const MERCHANT: AccountId = AccountId(3);
const ALICE: AccountId = AccountId(4);
const BOB: AccountId = AccountId(5);
const WITHDRAWALS: AccountId = AccountId(6);
const USD_WALLET: AccountId = AccountId(7);

fn minor(v: i64) -> MinorUnits {
    MinorUnits::from_stored(v)
}

/// Clearing accounts for cards, refunds and withdrawals, the merchant's wallet (limit 0),
/// Alice (limit 0), Bob (limit 50), and a USD wallet.
fn ledger() -> Ledger {
    let mut ledger = Ledger::new();
    let results = ledger.create_accounts(&[
        Account::clearing(CARDS, AccountKind::CardTopUpClearing, Currency::Try),
        Account::clearing(REFUNDS, AccountKind::RefundClearing, Currency::Try),
        Account::merchant_wallet(MERCHANT, Currency::Try, minor(0)),
        Account::member_wallet(ALICE, 100, Currency::Try, minor(0)),
        Account::member_wallet(BOB, 101, Currency::Try, minor(50)),
        Account::clearing(WITHDRAWALS, AccountKind::WithdrawalClearing, Currency::Try),
        Account::member_wallet(USD_WALLET, 100, Currency::Usd, minor(0)),
    ]);
    assert!(results.iter().all(|r| *r == Ok(AccountOutcome::Created)));
    ledger
}

fn transfer(id: u128, debit: AccountId, credit: AccountId, amount: i64) -> Transfer {
    Transfer::single(
        TransferId(id),
        debit,
        credit,
        minor(amount),
        Currency::Try,
        TransferCode::PaymentRedeem,
        1_000,
    )
}

fn pending(id: u128, debit: AccountId, credit: AccountId, amount: i64) -> Transfer {
    Transfer {
        kind: TransferKind::Pending,
        code: TransferCode::DepositFromCard,
        ..transfer(id, debit, credit, amount)
    }
}

fn apply(ledger: &mut Ledger, transfer: Transfer) -> Result<TransferOutcome, TransferError> {
    let mut results = ledger.create_transfers(&[transfer]);
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn posted(ledger: &Ledger, id: AccountId) -> i64 {
    ledger.balances(id).map(|b| b.posted()).unwrap_or(i64::MIN)
}

/// Applies a transfer that must succeed and checks every invariant afterwards.
fn applied(ledger: &mut Ledger, transfer: Transfer) {
    assert_eq!(apply(ledger, transfer), Ok(TransferOutcome::Applied));
    assert_eq!(ledger.verify(), Ok(()));
}

fn top_up(ledger: &mut Ledger, id: u128, wallet: AccountId, amount: i64) {
    applied(ledger, transfer(id, CARDS, wallet, amount));
}

#[test]
fn a_transfer_moves_money_between_two_accounts_and_is_recorded() {
    let mut ledger = ledger();
    top_up(&mut ledger, 1, ALICE, 1_000);
    applied(&mut ledger, transfer(2, ALICE, MERCHANT, 300));
    assert_eq!(posted(&ledger, ALICE), 700);
    assert_eq!(posted(&ledger, MERCHANT), 300);
    assert_eq!(posted(&ledger, CARDS), -1_000);
    assert_eq!(ledger.transfers().len(), 2);
    assert_eq!(
        ledger.transfer(TransferId(2)).map(|t| t.amount),
        Some(minor(300))
    );
    let recomputed = ledger.balances_recomputed_from_transfers();
    for state in ledger.accounts() {
        assert_eq!(recomputed.get(&state.account.id), Some(&state.balances));
    }
}

#[test]
fn zero_transfer_id_is_refused() {
    let mut ledger = ledger();
    assert_eq!(
        apply(&mut ledger, transfer(0, CARDS, ALICE, 1)),
        Err(TransferError::IdMustNotBeZero)
    );
    assert!(ledger.transfers().is_empty());
}

#[test]
fn replaying_a_transfer_moves_money_once_even_with_a_later_timestamp() {
    let mut ledger = ledger();
    let first = transfer(1, CARDS, ALICE, 1_000);
    let retry = Transfer {
        timestamp_ms: first.timestamp_ms + 60_000,
        ..first
    };
    assert_eq!(
        ledger.create_transfers(&[first, first, retry]),
        [
            Ok(TransferOutcome::Applied),
            Ok(TransferOutcome::AlreadyApplied),
            Ok(TransferOutcome::AlreadyApplied)
        ]
    );
    assert_eq!(posted(&ledger, ALICE), 1_000);
    assert_eq!(ledger.transfers().len(), 1);
    assert_eq!(ledger.verify(), Ok(()));
}

#[test]
fn reusing_a_transfer_id_for_another_transfer_is_refused() {
    let mut ledger = ledger();
    top_up(&mut ledger, 1, ALICE, 1_000);
    assert_eq!(
        apply(&mut ledger, transfer(1, CARDS, ALICE, 999)),
        Err(TransferError::ExistsWithDifferentFields)
    );
    assert_eq!(
        apply(&mut ledger, transfer(1, CARDS, BOB, 1_000)),
        Err(TransferError::ExistsWithDifferentFields)
    );
    assert_eq!(posted(&ledger, ALICE), 1_000);
    assert_eq!(posted(&ledger, BOB), 0);
}

#[test]
fn a_transfer_to_the_same_account_is_refused() {
    let mut ledger = ledger();
    assert_eq!(
        apply(&mut ledger, transfer(1, ALICE, ALICE, 1)),
        Err(TransferError::SameAccount)
    );
}

#[test]
fn a_zero_amount_is_refused() {
    let mut ledger = ledger();
    assert_eq!(
        apply(&mut ledger, transfer(1, CARDS, ALICE, 0)),
        Err(TransferError::ZeroAmount)
    );
}

#[test]
fn unknown_accounts_are_refused() {
    let mut ledger = ledger();
    assert_eq!(
        apply(&mut ledger, transfer(1, AccountId(99), ALICE, 1)),
        Err(TransferError::AccountNotFound(AccountId(99)))
    );
    assert_eq!(
        apply(&mut ledger, transfer(1, CARDS, AccountId(98), 1)),
        Err(TransferError::AccountNotFound(AccountId(98)))
    );
}

#[test]
fn a_currency_other_than_the_accounts_is_refused() {
    let mut ledger = ledger();
    let usd = Transfer {
        currency: Currency::Usd,
        ..transfer(1, CARDS, ALICE, 1)
    };
    assert_eq!(
        apply(&mut ledger, usd),
        Err(TransferError::CurrencyMismatch)
    );
    // TRY clearing to a USD wallet, in TRY.
    assert_eq!(
        apply(&mut ledger, transfer(2, CARDS, USD_WALLET, 1)),
        Err(TransferError::CurrencyMismatch)
    );
}

#[test]
fn a_wallet_cannot_pay_more_than_it_has() {
    let mut ledger = ledger();
    top_up(&mut ledger, 1, ALICE, 100);
    assert_eq!(
        apply(&mut ledger, transfer(2, ALICE, MERCHANT, 101)),
        Err(TransferError::ExceedsLimit)
    );
    applied(&mut ledger, transfer(3, ALICE, MERCHANT, 100));
    assert_eq!(posted(&ledger, ALICE), 0);
}

#[test]
fn a_wallet_may_go_negative_down_to_its_limit_and_no_further() {
    let mut ledger = ledger();
    // Bob has nothing and a limit of 50.
    applied(&mut ledger, transfer(1, BOB, MERCHANT, 50));
    assert_eq!(posted(&ledger, BOB), -50);
    assert_eq!(
        apply(&mut ledger, transfer(2, BOB, MERCHANT, 1)),
        Err(TransferError::ExceedsLimit)
    );
}

#[test]
fn pending_debits_count_against_the_limit_and_pending_credits_are_not_spendable() {
    let mut ledger = ledger();
    top_up(&mut ledger, 1, ALICE, 100);
    // A pending withdrawal of 80 leaves 20 available.
    applied(&mut ledger, pending(2, ALICE, WITHDRAWALS, 80));
    assert_eq!(
        apply(&mut ledger, transfer(3, ALICE, MERCHANT, 21)),
        Err(TransferError::ExceedsLimit)
    );
    // A pending top-up of 1,000 does not help.
    applied(&mut ledger, pending(4, CARDS, ALICE, 1_000));
    assert_eq!(
        apply(&mut ledger, transfer(3, ALICE, MERCHANT, 21)),
        Err(TransferError::ExceedsLimit)
    );
    applied(&mut ledger, transfer(3, ALICE, MERCHANT, 20));
    assert_eq!(
        ledger
            .account(ALICE)
            .and_then(|s| s.balances.available(s.account.negative_amount_limit)),
        Some(0)
    );
}

#[test]
fn a_failed_transfer_is_not_remembered_and_may_succeed_later() {
    let mut ledger = ledger();
    let pay = transfer(7, ALICE, MERCHANT, 100);
    assert_eq!(apply(&mut ledger, pay), Err(TransferError::ExceedsLimit));
    assert_eq!(ledger.transfer(TransferId(7)), None);
    top_up(&mut ledger, 1, ALICE, 100);
    applied(&mut ledger, pay);
}

#[test]
fn a_balance_above_balance_max_is_refused_as_overflow() {
    let mut ledger = ledger();
    top_up(&mut ledger, 1, ALICE, BALANCE_MAX);
    assert_eq!(
        apply(&mut ledger, transfer(2, CARDS, ALICE, 1)),
        Err(TransferError::Overflow)
    );
    assert_eq!(
        apply(&mut ledger, transfer(3, CARDS, REFUNDS, i64::MAX)),
        Err(TransferError::Overflow)
    );
    assert_eq!(posted(&ledger, ALICE), BALANCE_MAX);
    assert_eq!(ledger.verify(), Ok(()));
}

#[test]
fn a_card_top_up_is_pending_until_posted() {
    let mut ledger = ledger();
    let top_up = pending(1, CARDS, ALICE, 1_000);
    applied(&mut ledger, top_up);
    assert_eq!(
        ledger.balances(ALICE),
        Some(Balances {
            credits_pending: 1_000,
            ..Balances::ZERO
        })
    );
    assert_eq!(
        ledger.pending_status(top_up.id),
        Some(PendingStatus::Pending)
    );
    applied(
        &mut ledger,
        Transfer::post_pending(TransferId(2), &top_up, top_up.amount, 2_000),
    );
    assert_eq!(
        ledger.balances(ALICE),
        Some(Balances {
            credits_posted: 1_000,
            ..Balances::ZERO
        })
    );
    assert_eq!(
        ledger.pending_status(top_up.id),
        Some(PendingStatus::Posted)
    );
}

#[test]
fn a_partial_post_releases_the_remainder() {
    let mut ledger = ledger();
    top_up(&mut ledger, 1, ALICE, 1_000);
    let hold = pending(2, ALICE, MERCHANT, 600);
    applied(&mut ledger, hold);
    applied(
        &mut ledger,
        Transfer::post_pending(TransferId(3), &hold, minor(250), 3_000),
    );
    assert_eq!(
        ledger.balances(ALICE),
        Some(Balances {
            debits_posted: 250,
            credits_posted: 1_000,
            ..Balances::ZERO
        })
    );
    assert_eq!(
        ledger.balances(MERCHANT),
        Some(Balances {
            credits_posted: 250,
            ..Balances::ZERO
        })
    );
    // The released 350 is spendable again.
    applied(&mut ledger, transfer(4, ALICE, MERCHANT, 750));
}

#[test]
fn a_void_releases_the_whole_pending_amount() {
    let mut ledger = ledger();
    top_up(&mut ledger, 1, ALICE, 500);
    let withdrawal = pending(2, ALICE, WITHDRAWALS, 500);
    applied(&mut ledger, withdrawal);
    applied(
        &mut ledger,
        Transfer::void_pending(TransferId(3), &withdrawal, 3_000),
    );
    assert_eq!(
        ledger.balances(ALICE),
        Some(Balances {
            credits_posted: 500,
            ..Balances::ZERO
        })
    );
    assert_eq!(ledger.balances(WITHDRAWALS), Some(Balances::ZERO));
    assert_eq!(
        ledger.pending_status(withdrawal.id),
        Some(PendingStatus::Voided)
    );
}

#[test]
fn a_pending_transfer_is_resolved_at_most_once() {
    let mut ledger = ledger();
    let top_up = pending(1, CARDS, ALICE, 1_000);
    let post = Transfer::post_pending(TransferId(2), &top_up, minor(1_000), 0);
    let void = Transfer::void_pending(TransferId(3), &top_up, 0);
    let post_again = Transfer::post_pending(TransferId(4), &top_up, minor(1), 0);
    assert_eq!(
        ledger.create_transfers(&[top_up, post, post, void, post_again]),
        [
            Ok(TransferOutcome::Applied),
            Ok(TransferOutcome::Applied),
            Ok(TransferOutcome::AlreadyApplied),
            Err(TransferError::PendingAlreadyPosted),
            Err(TransferError::PendingAlreadyPosted),
        ]
    );

    let hold = pending(5, CARDS, BOB, 10);
    let void = Transfer::void_pending(TransferId(6), &hold, 0);
    let post = Transfer::post_pending(TransferId(7), &hold, minor(10), 0);
    assert_eq!(
        ledger.create_transfers(&[hold, void, void, post]),
        [
            Ok(TransferOutcome::Applied),
            Ok(TransferOutcome::Applied),
            Ok(TransferOutcome::AlreadyApplied),
            Err(TransferError::PendingAlreadyVoided),
        ]
    );
    assert_eq!(posted(&ledger, ALICE), 1_000);
    assert_eq!(ledger.balances(BOB), Some(Balances::ZERO));
    assert_eq!(ledger.verify(), Ok(()));
}

#[test]
fn posting_more_than_is_pending_is_refused() {
    let mut ledger = ledger();
    let top_up = pending(1, CARDS, ALICE, 1_000);
    applied(&mut ledger, top_up);
    assert_eq!(
        apply(
            &mut ledger,
            Transfer::post_pending(TransferId(2), &top_up, minor(1_001), 0)
        ),
        Err(TransferError::PostAmountExceedsPending)
    );
}

#[test]
fn posting_or_voiding_an_unknown_or_non_pending_transfer_is_refused() {
    let mut ledger = ledger();
    let ghost = pending(1, CARDS, ALICE, 10);
    assert_eq!(
        apply(
            &mut ledger,
            Transfer::post_pending(TransferId(2), &ghost, minor(10), 0)
        ),
        Err(TransferError::PendingNotFound)
    );
    let single = transfer(3, CARDS, ALICE, 10);
    applied(&mut ledger, single);
    assert_eq!(
        apply(
            &mut ledger,
            Transfer::void_pending(TransferId(4), &single, 0)
        ),
        Err(TransferError::NotPending)
    );
}

#[test]
fn a_post_or_void_must_match_its_pending_transfer() {
    let mut ledger = ledger();
    let top_up = pending(1, CARDS, ALICE, 1_000);
    applied(&mut ledger, top_up);
    let to_bob = Transfer {
        credit_account_id: BOB,
        ..Transfer::post_pending(TransferId(2), &top_up, minor(1_000), 0)
    };
    assert_eq!(
        apply(&mut ledger, to_bob),
        Err(TransferError::PendingMismatch)
    );
    let partial_void = Transfer {
        amount: minor(999),
        ..Transfer::void_pending(TransferId(3), &top_up, 0)
    };
    assert_eq!(
        apply(&mut ledger, partial_void),
        Err(TransferError::PendingMismatch)
    );
    assert_eq!(
        ledger.pending_status(top_up.id),
        Some(PendingStatus::Pending)
    );
}

#[test]
fn a_linked_chain_applies_all_or_nothing() {
    let mut ledger = ledger();
    top_up(&mut ledger, 1, ALICE, 100);
    let hold = pending(2, CARDS, BOB, 40);
    applied(&mut ledger, hold);
    let before = ledger.clone();

    // Pay 60 to the merchant, post Bob's top-up, open a new hold, then pay 41: too much.
    let chain = [
        Transfer {
            linked: true,
            ..transfer(10, ALICE, MERCHANT, 60)
        },
        Transfer {
            linked: true,
            ..Transfer::post_pending(TransferId(11), &hold, minor(40), 0)
        },
        Transfer {
            linked: true,
            ..pending(12, CARDS, ALICE, 5)
        },
        transfer(13, ALICE, MERCHANT, 41),
        transfer(14, CARDS, ALICE, 1),
    ];
    assert_eq!(
        ledger.create_transfers(&chain),
        [
            Err(TransferError::LinkedEventFailed),
            Err(TransferError::LinkedEventFailed),
            Err(TransferError::LinkedEventFailed),
            Err(TransferError::ExceedsLimit),
            Ok(TransferOutcome::Applied),
        ]
    );
    assert_eq!(ledger.transfers().len(), before.transfers().len() + 1);
    for state in before.accounts() {
        let id = state.account.id;
        let expected = if id == ALICE || id == CARDS {
            // Only transfer 14 moved.
            let mut balances = state.balances;
            if id == ALICE {
                balances.credits_posted += 1;
            } else {
                balances.debits_posted += 1;
            }
            balances
        } else {
            state.balances
        };
        assert_eq!(ledger.balances(id), Some(expected), "account {id}");
    }
    assert_eq!(ledger.pending_status(hold.id), Some(PendingStatus::Pending));
    assert_eq!(ledger.pending_status(TransferId(12)), None);
    assert_eq!(ledger.transfer(TransferId(10)), None);
    assert_eq!(ledger.verify(), Ok(()));

    // The same chain without the overdraft goes through whole.
    let chain = [
        chain[0],
        chain[1],
        chain[2],
        transfer(13, ALICE, MERCHANT, 40),
    ];
    assert!(
        ledger
            .create_transfers(&chain)
            .iter()
            .all(|r| *r == Ok(TransferOutcome::Applied))
    );
    assert_eq!(posted(&ledger, ALICE), 1);
    assert_eq!(ledger.pending_status(hold.id), Some(PendingStatus::Posted));
    assert_eq!(ledger.verify(), Ok(()));
}

#[test]
fn a_batch_ending_inside_a_linked_chain_applies_none_of_it() {
    let mut ledger = ledger();
    let batch = [
        transfer(1, CARDS, ALICE, 5),
        Transfer {
            linked: true,
            ..transfer(2, CARDS, ALICE, 5)
        },
        Transfer {
            linked: true,
            ..transfer(3, CARDS, ALICE, 5)
        },
    ];
    assert_eq!(
        ledger.create_transfers(&batch),
        [
            Ok(TransferOutcome::Applied),
            Err(TransferError::LinkedEventFailed),
            Err(TransferError::LinkedEventChainOpen),
        ]
    );
    assert_eq!(posted(&ledger, ALICE), 5);
    assert_eq!(ledger.verify(), Ok(()));
}

#[test]
fn accounts_are_created_once_and_idempotently() {
    let mut ledger = ledger();
    let carol = Account::member_wallet(AccountId(20), 102, Currency::Try, minor(0));
    assert_eq!(
        ledger.create_accounts(&[
            carol,
            carol,
            Account {
                negative_amount_limit: Some(minor(1)),
                ..carol
            },
            Account::member_wallet(AccountId(0), 103, Currency::Try, minor(0)),
        ]),
        [
            Ok(AccountOutcome::Created),
            Ok(AccountOutcome::AlreadyCreated),
            Err(AccountError::ExistsWithDifferentFields),
            Err(AccountError::IdMustBePositive),
        ]
    );
    assert_eq!(ledger.balances(AccountId(20)), Some(Balances::ZERO));
}

#[test]
fn a_wallets_limit_can_be_changed_unless_it_already_owes_more() {
    let mut ledger = ledger();
    applied(&mut ledger, transfer(1, BOB, MERCHANT, 30));
    assert_eq!(
        ledger.set_negative_amount_limit(BOB, minor(29)),
        Err(AccountError::ExceedsLimit)
    );
    assert_eq!(ledger.set_negative_amount_limit(BOB, minor(30)), Ok(()));
    assert_eq!(
        apply(&mut ledger, transfer(2, BOB, MERCHANT, 1)),
        Err(TransferError::ExceedsLimit)
    );
    assert_eq!(ledger.set_negative_amount_limit(BOB, minor(100)), Ok(()));
    applied(&mut ledger, transfer(2, BOB, MERCHANT, 70));
    assert_eq!(
        ledger.set_negative_amount_limit(CARDS, minor(1)),
        Err(AccountError::LimitDoesNotFitKind)
    );
    assert_eq!(
        ledger.set_negative_amount_limit(AccountId(99), minor(1)),
        Err(AccountError::AccountNotFound(AccountId(99)))
    );
    assert_eq!(
        ledger.set_negative_amount_limit(BOB, minor(BALANCE_MAX + 1)),
        Err(AccountError::LimitTooLarge)
    );
}

#[test]
fn a_closed_loop_wallets_life_keeps_the_books_balanced() {
    let mut ledger = ledger();
    // Top up by card (pending, then posted), pay the merchant, get a card refund into the
    // wallet, send a remittance to Bob, withdraw (pending, then cancelled), withdraw again.
    let deposit = pending(1, CARDS, ALICE, 10_000);
    applied(&mut ledger, deposit);
    applied(
        &mut ledger,
        Transfer::post_pending(TransferId(2), &deposit, deposit.amount, 0),
    );
    applied(&mut ledger, transfer(3, ALICE, MERCHANT, 4_000));
    applied(&mut ledger, transfer(4, REFUNDS, ALICE, 1_500));
    applied(
        &mut ledger,
        Transfer {
            code: TransferCode::Remittance,
            ..transfer(5, ALICE, BOB, 2_000)
        },
    );
    let withdrawal = Transfer {
        code: TransferCode::Withdraw,
        ..pending(6, ALICE, WITHDRAWALS, 5_500)
    };
    applied(&mut ledger, withdrawal);
    applied(
        &mut ledger,
        Transfer {
            code: TransferCode::WithdrawCancel,
            ..Transfer::void_pending(TransferId(7), &withdrawal, 0)
        },
    );
    let withdrawal = Transfer {
        id: TransferId(8),
        ..withdrawal
    };
    applied(&mut ledger, withdrawal);
    applied(
        &mut ledger,
        Transfer::post_pending(TransferId(9), &withdrawal, withdrawal.amount, 0),
    );
    assert_eq!(posted(&ledger, ALICE), 0);
    assert_eq!(posted(&ledger, MERCHANT), 4_000);
    assert_eq!(posted(&ledger, BOB), 2_000);
    assert_eq!(posted(&ledger, WITHDRAWALS), 5_500);
    assert_eq!(posted(&ledger, CARDS) + posted(&ledger, REFUNDS), -11_500);
}

#[test]
fn a_resumed_ledger_continues_where_the_store_left_off() {
    let mut full = ledger();
    top_up(&mut full, 1, ALICE, 1_000);
    let hold = pending(2, ALICE, MERCHANT, 300);
    applied(&mut full, hold);

    // The store loads only what the next batch touches.
    let accounts = [ALICE, MERCHANT]
        .into_iter()
        .filter_map(|id| full.account(id).copied());
    let transfers = [(hold, Some(PendingStatus::Pending))];
    let mut batch_ledger = Ledger::resume(accounts, transfers).unwrap();
    let post = Transfer::post_pending(TransferId(3), &hold, minor(300), 0);
    let pay = transfer(4, ALICE, MERCHANT, 700);
    let batch = [hold, post, pay, transfer(5, ALICE, MERCHANT, 1)];
    let results = batch_ledger.create_transfers(&batch);
    assert_eq!(
        results,
        [
            Ok(TransferOutcome::AlreadyApplied),
            Ok(TransferOutcome::Applied),
            Ok(TransferOutcome::Applied),
            Err(TransferError::ExceedsLimit),
        ]
    );
    assert_eq!(batch_ledger.transfers(), [post, pay]);
    assert_eq!(batch_ledger.verify(), Ok(()));

    // The full reference ledger agrees.
    assert_eq!(full.create_transfers(&batch), results);
    for id in [ALICE, MERCHANT] {
        assert_eq!(batch_ledger.balances(id), full.balances(id));
    }
    assert_eq!(
        batch_ledger.pending_status(hold.id),
        full.pending_status(hold.id)
    );
    assert_eq!(full.verify(), Ok(()));
}

#[test]
fn resuming_from_inconsistent_state_is_refused() {
    let alice = *ledger().account(ALICE).unwrap();
    assert_eq!(
        Ledger::resume([alice, alice], []).map(|_| ()),
        Err(ResumeError::DuplicateAccount(ALICE))
    );
    let broken = AccountState {
        balances: Balances {
            debits_posted: -1,
            ..Balances::ZERO
        },
        ..alice
    };
    assert_eq!(
        Ledger::resume([broken], []).map(|_| ()),
        Err(ResumeError::InvalidAccount(ALICE))
    );
    let hold = pending(1, CARDS, ALICE, 1);
    assert_eq!(
        Ledger::resume([], [(hold, None)]).map(|_| ()),
        Err(ResumeError::PendingStatus(hold.id))
    );
    assert_eq!(
        Ledger::resume(
            [],
            [
                (hold, Some(PendingStatus::Pending)),
                (hold, Some(PendingStatus::Pending))
            ]
        )
        .map(|_| ()),
        Err(ResumeError::DuplicateTransfer(hold.id))
    );
}

#[test]
fn verify_finds_a_balance_changed_behind_the_ledgers_back() {
    let mut ledger = ledger();
    top_up(&mut ledger, 1, ALICE, 100);
    ledger.set_balances(
        ALICE,
        Balances {
            credits_posted: 1_000_000,
            ..Balances::ZERO
        },
    );
    let violations = ledger.verify().unwrap_err();
    assert!(violations.iter().any(|v| matches!(
        v,
        InvariantViolation::BalanceMismatch { account_id, .. } if *account_id == ALICE
    )));
    assert!(
        violations
            .iter()
            .any(|v| matches!(v, InvariantViolation::Unbalanced { .. }))
    );
}

// ---------------------------------------------------------------------------------------
// Property tests.

/// Account ids the generator picks from; the last one does not exist.
const IDS: [AccountId; 9] = [
    AccountId(1),
    AccountId(2),
    AccountId(3),
    AccountId(4),
    AccountId(5),
    AccountId(6),
    AccountId(7),
    AccountId(8),
    AccountId(99),
];

/// Two TRY clearing accounts, the merchant's wallet and three members' wallets (TRY), a USD
/// wallet and a USD clearing account, with the given limits for the five wallets.
fn random_ledger(limits: [i64; 5]) -> Ledger {
    let mut ledger = Ledger::new();
    let [merchant, alice, bob, carol, dave] = limits.map(minor);
    let results = ledger.create_accounts(&[
        Account::clearing(IDS[0], AccountKind::CardTopUpClearing, Currency::Try),
        Account::clearing(IDS[1], AccountKind::RefundClearing, Currency::Try),
        Account::merchant_wallet(IDS[2], Currency::Try, merchant),
        Account::member_wallet(IDS[3], 1, Currency::Try, alice),
        Account::member_wallet(IDS[4], 2, Currency::Try, bob),
        Account::member_wallet(IDS[5], 3, Currency::Try, carol),
        Account::member_wallet(IDS[6], 1, Currency::Usd, dave),
        Account::clearing(IDS[7], AccountKind::RemittanceClearing, Currency::Usd),
    ]);
    assert!(results.iter().all(Result::is_ok));
    ledger
}

/// One generated operation, turned into a transfer against the transfers generated so far.
#[derive(Debug, Clone)]
enum Op {
    Transfer {
        id: u8,
        debit: usize,
        credit: usize,
        amount: Amount,
        pending: bool,
        /// The other currency than the debit account's.
        other_currency: bool,
        linked: bool,
    },
    /// Posts (`post`) or voids a transfer generated earlier (`target` picks it; it may not be
    /// pending, may be resolved already, may not exist).
    Resolve {
        id: u8,
        target: u8,
        /// Picks among the pending transfers sent so far, if any.
        prefer_pending: bool,
        post: bool,
        amount: Amount,
        /// Posts normally take the pending amount or less, voids exactly it; this breaks that.
        wrong_amount: bool,
        linked: bool,
    },
    /// Sends again a transfer generated earlier (`target` picks it), maybe with another
    /// timestamp, or with the same id but another amount.
    Replay {
        target: u8,
        alter: bool,
    },
    SetLimit {
        account: usize,
        limit: i64,
    },
}

#[derive(Debug, Clone, Copy)]
enum Amount {
    Small(i64),
    Zero,
    Huge,
}

impl Amount {
    fn minor(self) -> MinorUnits {
        match self {
            Amount::Small(v) => minor(v),
            Amount::Zero => MinorUnits::ZERO,
            Amount::Huge => minor(i64::MAX),
        }
    }
}

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        20 => (1i64..=1_000).prop_map(Amount::Small),
        1 => Just(Amount::Zero),
        1 => Just(Amount::Huge),
    ]
}

/// (debit, credit) indices into `IDS`: mostly two TRY accounts, sometimes the two USD ones,
/// often a TRY clearing account funding a wallet, sometimes anything (the same account
/// twice, the missing one, two currencies).
fn accounts() -> impl Strategy<Value = (usize, usize)> {
    prop_oneof![
        8 => (0usize..2, 2usize..6),
        16 => (0usize..6, 1usize..6).prop_map(|(debit, offset)| (debit, (debit + offset) % 6)),
        2 => any::<bool>().prop_map(|flip| if flip { (6, 7) } else { (7, 6) }),
        2 => (0..IDS.len(), 0..IDS.len()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let linked = proptest::bool::weighted(0.08);
    prop_oneof![
        10 => (any::<u8>(), accounts(), amount(), any::<bool>(),
               proptest::bool::weighted(0.05), linked)
            .prop_map(|(id, (debit, credit), amount, pending, other_currency, linked)| Op::Transfer {
                id, debit, credit, amount, pending, other_currency, linked,
            }),
        5 => (any::<u8>(), any::<u8>(), proptest::bool::weighted(0.85), any::<bool>(), amount(),
              proptest::bool::weighted(0.1), linked)
            .prop_map(|(id, target, prefer_pending, post, amount, wrong_amount, linked)| Op::Resolve {
                id, target, prefer_pending, post, amount, wrong_amount, linked,
            }),
        3 => (any::<u8>(), proptest::bool::weighted(0.3))
            .prop_map(|(target, alter)| Op::Replay { target, alter }),
        1 => (2usize..7, 0i64..=300).prop_map(|(account, limit)| Op::SetLimit { account, limit }),
    ]
}

/// Turns operations into batches of transfers. Ids come from a small space (`id % 64 + 1`),
/// so ids collide with earlier transfers: some collisions are exact replays, most are
/// different transfers under a used id.
struct Generator {
    sent: Vec<Transfer>,
    clock: i64,
}

impl Generator {
    fn transfer(&mut self, op: &Op) -> Option<Transfer> {
        self.clock += 1;
        let id = |id: u8| TransferId(u128::from(id % 64) + 1);
        let transfer = match *op {
            Op::Transfer {
                id: raw_id,
                debit,
                credit,
                amount,
                pending,
                other_currency,
                linked,
            } => Transfer {
                id: id(raw_id),
                debit_account_id: IDS[debit],
                credit_account_id: IDS[credit],
                amount: amount.minor(),
                // Accounts 7 and 8 (indices 6 and 7) are in USD.
                currency: if matches!(debit, 6 | 7) != other_currency {
                    Currency::Usd
                } else {
                    Currency::Try
                },
                kind: if pending {
                    TransferKind::Pending
                } else {
                    TransferKind::Single
                },
                code: TransferCode::PaymentRedeem,
                linked,
                timestamp_ms: self.clock,
            },
            Op::Resolve {
                id: raw_id,
                target,
                prefer_pending,
                post,
                amount,
                wrong_amount,
                linked,
            } => {
                let target = *self.pick(target, prefer_pending)?;
                let mut resolve = if post {
                    let amount = match amount {
                        Amount::Small(v) => minor(v.min(target.amount.get())),
                        other => other.minor(),
                    };
                    Transfer::post_pending(id(raw_id), &target, amount, self.clock)
                } else {
                    Transfer::void_pending(id(raw_id), &target, self.clock)
                };
                if wrong_amount {
                    resolve.amount = minor(target.amount.get().saturating_add(1));
                }
                resolve.linked = linked;
                resolve
            }
            Op::Replay { target, alter } => {
                let mut again = *self.pick(target, false)?;
                again.timestamp_ms = self.clock;
                if alter {
                    again.amount = minor(again.amount.get().saturating_add(1));
                }
                again
            }
            Op::SetLimit { .. } => return None,
        };
        self.sent.push(transfer);
        Some(transfer)
    }

    fn pick(&self, target: u8, prefer_pending: bool) -> Option<&Transfer> {
        let pendings: Vec<&Transfer> = self
            .sent
            .iter()
            .filter(|t| t.kind == TransferKind::Pending)
            .collect();
        if prefer_pending && !pendings.is_empty() {
            return pendings.get(usize::from(target) % pendings.len()).copied();
        }
        if self.sent.is_empty() {
            return None;
        }
        self.sent.get(usize::from(target) % self.sent.len())
    }
}

/// Applies the operations in batches (a `SetLimit` ends a batch) and checks the invariants
/// after each batch. Returns the ledger.
fn run(
    limits: [i64; 5],
    ops: &[Op],
    check: impl Fn(&Ledger, &[Transfer], &[Result<TransferOutcome, TransferError>], &Ledger),
) -> Ledger {
    let mut ledger = random_ledger(limits);
    let mut generator = Generator {
        sent: Vec::new(),
        clock: 0,
    };
    let mut batch = Vec::new();
    let flush = |ledger: &mut Ledger, batch: &mut Vec<Transfer>| {
        let before = ledger.clone();
        let results = ledger.create_transfers(batch);
        check(&before, batch, &results, ledger);
        batch.clear();
    };
    for op in ops {
        match *op {
            Op::SetLimit { account, limit } => {
                flush(&mut ledger, &mut batch);
                let _ = ledger.set_negative_amount_limit(IDS[account], minor(limit));
            }
            _ => batch.extend(generator.transfer(op)),
        }
    }
    flush(&mut ledger, &mut batch);
    ledger
}

fn assert_invariants(ledger: &Ledger) {
    assert_eq!(ledger.verify(), Ok(()));
    for state in ledger.accounts() {
        assert!(state.balances.in_range());
        assert!(
            state
                .balances
                .within_limit(state.account.negative_amount_limit)
        );
        if let Some(limit) = state.account.negative_amount_limit {
            assert!(state.balances.posted() >= -limit.get());
        }
    }
    let recomputed = ledger.balances_recomputed_from_transfers();
    for state in ledger.accounts() {
        assert_eq!(recomputed.get(&state.account.id), Some(&state.balances));
    }
}

/// Splits a batch into its linked chains (index ranges).
fn chains(batch: &[Transfer]) -> Vec<std::ops::Range<usize>> {
    let mut chains = Vec::new();
    let mut start = 0;
    for (i, transfer) in batch.iter().enumerate() {
        if !transfer.linked || i + 1 == batch.len() {
            chains.push(start..i + 1);
            start = i + 1;
        }
    }
    chains
}

fn limits() -> impl Strategy<Value = [i64; 5]> {
    proptest::array::uniform5(prop_oneof![Just(0i64), 0i64..=500])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random batches keep every invariant, and each result is what the state says: an
    /// applied transfer is recorded once, a failed one left no trace.
    #[test]
    fn random_batches_keep_every_invariant(
        limits in limits(),
        ops in proptest::collection::vec(op(), 0..120),
    ) {
        let ledger = run(limits, &ops, |before, batch, results, after| {
            assert_eq!(results.len(), batch.len());
            assert_invariants(after);
            for (transfer, result) in batch.iter().zip(results) {
                match result {
                    Ok(TransferOutcome::Applied) => {
                        assert!(before.transfer(transfer.id).is_none());
                        assert_eq!(after.transfer(transfer.id), Some(transfer));
                    }
                    Ok(TransferOutcome::AlreadyApplied) => {
                        // Applied before this batch, or earlier in it.
                        let existing = after.transfer(transfer.id);
                        assert!(existing.is_some_and(|t| t.same_request_as(transfer)));
                    }
                    Err(_) => {}
                }
            }
            let applied = results
                .iter()
                .filter(|r| **r == Ok(TransferOutcome::Applied))
                .count();
            assert_eq!(after.transfers().len(), before.transfers().len() + applied);
            assert_eq!(after.transfers().get(..before.transfers().len()), Some(before.transfers()));
        });
        assert_invariants(&ledger);
    }

    /// The same transfer twice moves money once: sending every transfer twice in a row ends
    /// in exactly the state of sending it once.
    #[test]
    fn sending_every_transfer_twice_moves_money_once(
        limits in limits(),
        ops in proptest::collection::vec(op(), 0..80),
    ) {
        let mut once = random_ledger(limits);
        let mut twice = random_ledger(limits);
        let mut generator = Generator { sent: Vec::new(), clock: 0 };
        let mut transfers = Vec::new();
        for op in &ops {
            if let Some(transfer) = generator.transfer(op) {
                // Chains would make a doubled transfer part of a chain; keep them single here.
                transfers.push(Transfer { linked: false, ..transfer });
            }
        }
        let doubled: Vec<Transfer> = transfers
            .iter()
            .flat_map(|t| [*t, Transfer { timestamp_ms: t.timestamp_ms + 1, ..*t }])
            .collect();
        let results_once = once.create_transfers(&transfers);
        let results_twice = twice.create_transfers(&doubled);
        for (i, result) in results_once.iter().enumerate() {
            prop_assert_eq!(results_twice.get(2 * i), Some(result));
            if result.is_ok() {
                prop_assert_eq!(results_twice.get(2 * i + 1), Some(&Ok(TransferOutcome::AlreadyApplied)));
            }
        }
        prop_assert_eq!(once.transfers(), twice.transfers());
        for state in once.accounts() {
            prop_assert_eq!(twice.balances(state.account.id), Some(state.balances));
        }
        assert_invariants(&twice);
    }

    /// A linked chain is all or nothing: its results are all `Ok` or all `Err`, and the
    /// ledger ends as if only the chains that succeeded had been sent.
    #[test]
    fn linked_chains_apply_all_or_nothing(
        limits in limits(),
        ops in proptest::collection::vec(op(), 0..120),
    ) {
        run(limits, &ops, |before, batch, results, after| {
            let mut replica = before.clone();
            for chain in chains(batch) {
                let chain_results = &results[chain.clone()];
                let all_ok = chain_results.iter().all(Result::is_ok);
                assert!(all_ok || chain_results.iter().all(Result::is_err), "{chain_results:?}");
                if all_ok {
                    assert_eq!(replica.create_transfers(&batch[chain]), chain_results);
                }
            }
            assert_eq!(replica.transfers(), after.transfers());
            for state in after.accounts() {
                assert_eq!(replica.balances(state.account.id), Some(state.balances));
                assert_eq!(replica.account(state.account.id), Some(state));
            }
            for (id, status) in after.pending_statuses() {
                assert_eq!(replica.pending_status(id), Some(status));
            }
        });
    }

    /// A store that resumes a ledger from just the rows a batch touches gets the same
    /// results and balances as the full in-memory ledger.
    #[test]
    fn a_resumed_ledger_agrees_with_the_full_one(
        limits in limits(),
        ops in proptest::collection::vec(op(), 0..120),
    ) {
        run(limits, &ops, |before, batch, results, after| {
            let ids: std::collections::HashSet<TransferId> = batch
                .iter()
                .flat_map(|t| [Some(t.id), t.kind.pending_id()])
                .flatten()
                .collect();
            let touched: std::collections::HashSet<AccountId> = batch
                .iter()
                .flat_map(|t| [t.debit_account_id, t.credit_account_id])
                .collect();
            let accounts = before
                .accounts()
                .filter(|s| touched.contains(&s.account.id))
                .copied();
            let transfers = ids.iter().filter_map(|id| {
                before.transfer(*id).map(|t| (*t, before.pending_status(*id)))
            });
            let mut resumed = Ledger::resume(accounts, transfers).unwrap();
            assert_eq!(resumed.create_transfers(batch), results);
            assert_eq!(resumed.verify(), Ok(()));
            assert_eq!(resumed.transfers(), after.transfers().get(before.transfers().len()..).unwrap());
            for state in resumed.accounts() {
                assert_eq!(after.balances(state.account.id), Some(state.balances));
            }
        });
    }
}
