//! In-memory ledger throughput (`cargo bench -p ledger`): batches of 8,190 transfers, (a)
//! spread over 10,000 wallets and (b) all debiting one hot wallet; plus `verify` over the
//! resulting books. Criterion reports transfers per second as "elements/s".

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use domain::money::{Currency, MinorUnits};
use ledger::{Account, AccountId, AccountKind, Ledger, Transfer, TransferCode, TransferId};

const BATCH_SIZE: usize = 8_190;
const WALLET_COUNT: i64 = 10_000;
const CARDS: AccountId = AccountId(1);
const MERCHANT: AccountId = AccountId(2);
const FIRST_WALLET: i64 = 10;

/// A deterministic xorshift, so every run benchmarks the same batch.
struct Rng(u64);

impl Rng {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn wallet(index: u64) -> AccountId {
    AccountId(FIRST_WALLET + i64::try_from(index).unwrap_or(0))
}

fn transfer(id: u128, debit: AccountId, credit: AccountId, amount: i64) -> Transfer {
    Transfer::single(
        TransferId(id),
        debit,
        credit,
        MinorUnits::from_stored(amount),
        Currency::Try,
        TransferCode::PaymentRedeem,
        1_700_000_000_000,
    )
}

/// The card clearing account, the merchant's wallet and 10,000 members' wallets, each
/// topped up by card (through transfers, so the books verify).
fn funded_ledger() -> Ledger {
    let mut ledger = Ledger::new();
    let mut accounts = vec![
        Account::clearing(CARDS, AccountKind::CardTopUpClearing, Currency::Try),
        Account::merchant_wallet(MERCHANT, Currency::Try, MinorUnits::ZERO),
    ];
    let wallets = (0..WALLET_COUNT).map(|i| {
        Account::member_wallet(
            AccountId(FIRST_WALLET + i),
            i,
            Currency::Try,
            MinorUnits::ZERO,
        )
    });
    accounts.extend(wallets);
    let created = ledger.create_accounts(&accounts);
    assert!(created.iter().all(Result::is_ok));
    let top_ups: Vec<Transfer> = (0..WALLET_COUNT)
        .map(|i| {
            let id = u128::try_from(i).unwrap_or(0) + 1;
            transfer(id, CARDS, AccountId(FIRST_WALLET + i), 10_000_000)
        })
        .collect();
    let results = ledger.create_transfers(&top_ups);
    assert!(results.iter().all(Result::is_ok));
    ledger
}

/// (a) Random wallet to random other wallet.
fn spread_batch() -> Vec<Transfer> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let count = u64::try_from(WALLET_COUNT).unwrap_or(1);
    (0..BATCH_SIZE)
        .map(|i| {
            let debit = rng.next(count);
            let credit = (debit + 1 + rng.next(count - 1)) % count;
            let amount = 1 + i64::try_from(rng.next(10_000)).unwrap_or(0);
            let id = 1_000_000 + u128::try_from(i).unwrap_or(0);
            transfer(id, wallet(debit), wallet(credit), amount)
        })
        .collect()
}

/// (b) Every transfer pays the merchant from the same wallet.
fn hot_batch() -> Vec<Transfer> {
    (0..BATCH_SIZE)
        .map(|i| {
            let id = 2_000_000 + u128::try_from(i).unwrap_or(0);
            transfer(id, wallet(0), MERCHANT, 1)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let ledger = funded_ledger();
    let mut group = c.benchmark_group("create_transfers");
    group.throughput(Throughput::Elements(
        u64::try_from(BATCH_SIZE).unwrap_or(u64::MAX),
    ));
    for (name, batch) in [
        ("spread_10000_wallets", spread_batch()),
        ("one_hot_wallet", hot_batch()),
    ] {
        let mut check = ledger.clone();
        let results = check.create_transfers(&batch);
        assert!(
            results.iter().all(Result::is_ok),
            "{name}: a transfer failed"
        );
        assert!(check.verify().is_ok(), "{name}: books do not verify");
        group.bench_function(name, |b| {
            b.iter_batched(
                || ledger.clone(),
                |mut ledger| {
                    let results = ledger.create_transfers(black_box(&batch));
                    (ledger, results)
                },
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();

    let mut books = ledger.clone();
    let _ = books.create_transfers(&spread_batch());
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(
        u64::try_from(books.transfers().len()).unwrap_or(u64::MAX),
    ));
    group.bench_function("10002_accounts_18190_transfers", |b| {
        b.iter(|| black_box(&books).verify());
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
