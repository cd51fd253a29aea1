-- Stored cards (tokenized vault), the audit of every card decryption, and vault settings.
CREATE TABLE stored_cards (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    card_user_key TEXT NOT NULL,
    card_token TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    pan_sealed TEXT NOT NULL,
    bin_number TEXT NOT NULL,
    last_four TEXT NOT NULL,
    expire_month TEXT NOT NULL,
    expire_year TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX stored_cards_user ON stored_cards(merchant_id, card_user_key);
CREATE INDEX stored_cards_fingerprint ON stored_cards(merchant_id, card_user_key, fingerprint);

CREATE TABLE vault_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id INTEGER NOT NULL,
    card_token TEXT NOT NULL,
    purpose TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX vault_audit_token ON vault_audit(card_token);

CREATE TABLE vault_settings (
    name TEXT PRIMARY KEY,
    value_sealed TEXT NOT NULL
);
