-- Orkestra core schema (SQLite). Times are UTC epoch milliseconds; money is integer minor units.
CREATE TABLE merchants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    api_key TEXT NOT NULL UNIQUE,
    secret_key_sealed TEXT NOT NULL,
    threeds_callback_key_sealed TEXT NOT NULL,
    hook_key_sealed TEXT NOT NULL,
    webhook_url TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    external_id TEXT,
    name TEXT,
    email TEXT,
    is_buyer INTEGER NOT NULL,
    is_sub_merchant INTEGER NOT NULL,
    member_type TEXT,
    status TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX members_external_id ON members(merchant_id, external_id);

CREATE TABLE merchant_poses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    alias TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    pos_integrator TEXT NOT NULL,
    currency TEXT NOT NULL,
    order_number INTEGER NOT NULL,
    doc TEXT NOT NULL,
    credentials_sealed TEXT NOT NULL,
    commissions TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX merchant_poses_alias ON merchant_poses(merchant_id, alias);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    status TEXT NOT NULL,
    phase TEXT NOT NULL,
    price_minor INTEGER NOT NULL,
    paid_price_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    installment INTEGER NOT NULL,
    payment_group TEXT NOT NULL,
    payment_source TEXT NOT NULL,
    conversation_id TEXT,
    external_id TEXT,
    buyer_member_id INTEGER,
    pos_id INTEGER,
    bin_number TEXT,
    last_four TEXT,
    captured_minor INTEGER NOT NULL DEFAULT 0,
    refunded_minor INTEGER NOT NULL DEFAULT 0,
    voided INTEGER NOT NULL DEFAULT 0,
    doc TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX payments_merchant_created ON payments(merchant_id, created_at);
CREATE INDEX payments_merchant_conversation ON payments(merchant_id, conversation_id);

CREATE TABLE payment_transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id INTEGER NOT NULL REFERENCES payments(id),
    merchant_id INTEGER NOT NULL,
    name TEXT,
    external_id TEXT,
    price_minor INTEGER NOT NULL,
    paid_price_minor INTEGER NOT NULL,
    refunded_minor INTEGER NOT NULL DEFAULT 0,
    sub_merchant_member_id INTEGER,
    sub_merchant_member_price_minor INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX payment_transactions_payment ON payment_transactions(payment_id);

CREATE TABLE payment_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id INTEGER NOT NULL REFERENCES payments(id),
    merchant_id INTEGER NOT NULL,
    pos_id INTEGER NOT NULL,
    order_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    state TEXT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    next_check_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- A bank order id is used once per operation (a post-auth reuses its pre-auth's order id).
CREATE UNIQUE INDEX payment_attempts_order ON payment_attempts(pos_id, order_id, operation);
CREATE INDEX payment_attempts_unresolved ON payment_attempts(state, next_check_at);
CREATE INDEX payment_attempts_payment ON payment_attempts(payment_id);

CREATE TABLE refunds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id INTEGER NOT NULL,
    payment_id INTEGER NOT NULL REFERENCES payments(id),
    refund_type TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    conversation_id TEXT,
    order_id TEXT NOT NULL,
    bank_operation TEXT NOT NULL,
    next_check_at INTEGER,
    doc TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX refunds_payment ON refunds(payment_id);
CREATE INDEX refunds_unresolved ON refunds(status, next_check_at);

CREATE TABLE refund_transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id INTEGER NOT NULL,
    refund_id INTEGER REFERENCES refunds(id),
    payment_id INTEGER NOT NULL REFERENCES payments(id),
    payment_transaction_id INTEGER NOT NULL REFERENCES payment_transactions(id),
    amount_minor INTEGER NOT NULL,
    status TEXT NOT NULL,
    conversation_id TEXT,
    is_after_settlement INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX refund_transactions_payment ON refund_transactions(payment_id);

CREATE TABLE idempotency_keys (
    merchant_id INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, idempotency_key)
);
