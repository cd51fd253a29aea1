-- Closed-loop wallet: a double-entry ledger (accounts, immutable transfers, pending statuses)
-- and the withdrawals that move money out of it. Money is integer minor units; times are UTC
-- epoch milliseconds.

-- One row per account: members' wallets, the merchant's wallet, clearing accounts. The four
-- balance columns are sums of the account's transfers (`orkestra ledger verify` recomputes
-- them); every change is a conditional UPDATE in the transaction that inserts the transfer.
CREATE TABLE ledger_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    -- member_wallet | merchant_wallet | card_top_up_clearing | refund_clearing |
    -- withdrawal_clearing | remittance_clearing | settlement_clearing
    kind TEXT NOT NULL,
    -- The owner of a member wallet; 0 for every other account.
    member_id INTEGER NOT NULL DEFAULT 0,
    currency TEXT NOT NULL,
    -- Wallets only (NULL for clearing accounts): how far debits may exceed posted credits.
    negative_amount_limit INTEGER,
    debits_pending INTEGER NOT NULL DEFAULT 0,
    debits_posted INTEGER NOT NULL DEFAULT 0,
    credits_pending INTEGER NOT NULL DEFAULT 0,
    credits_posted INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX ledger_accounts_owner ON ledger_accounts(merchant_id, kind, member_id, currency);

-- The ledger's entries, never updated or deleted. `id` is the order of application (and the
-- wallet transaction id the API shows); `transfer_id` (32 hex digits) is the idempotency key.
CREATE TABLE ledger_transfers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    transfer_id TEXT NOT NULL UNIQUE,
    merchant_id INTEGER NOT NULL,
    debit_account_id INTEGER NOT NULL,
    credit_account_id INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    -- single | pending | post | void
    kind TEXT NOT NULL,
    -- For a post or void: the pending transfer it resolves.
    pending_id TEXT,
    -- Craftgate's WalletTransactionType, numbered as `ledger::TransferCode::code`.
    code INTEGER NOT NULL,
    -- What the transfer belongs to: payment, refund, withdraw (with its id), or NULL.
    ref_kind TEXT,
    ref_id INTEGER,
    -- Descriptive fields (remittance description and reason).
    doc TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX ledger_transfers_debit ON ledger_transfers(debit_account_id, id);
CREATE INDEX ledger_transfers_credit ON ledger_transfers(credit_account_id, id);
CREATE INDEX ledger_transfers_ref ON ledger_transfers(ref_kind, ref_id);

-- The status of each pending transfer: pending → posted | voided, claimed exactly once with
-- a conditional UPDATE in the transaction that inserts the post or void.
CREATE TABLE ledger_pending (
    transfer_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX ledger_pending_status ON ledger_pending(status);

-- Withdrawals from a member's wallet, waiting for a payout (or cancelled).
CREATE TABLE wallet_withdraws (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    member_id INTEGER NOT NULL,
    wallet_id INTEGER NOT NULL REFERENCES ledger_accounts(id),
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    payout_status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX wallet_withdraws_merchant ON wallet_withdraws(merchant_id, created_at);
