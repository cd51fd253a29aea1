-- 3D Secure attempts, hosted checkout sessions and pay-by-link products.
ALTER TABLE payment_attempts ADD COLUMN threeds_token TEXT;
ALTER TABLE payment_attempts ADD COLUMN threeds TEXT;
ALTER TABLE payment_attempts ADD COLUMN expires_at INTEGER;
CREATE UNIQUE INDEX payment_attempts_threeds_token ON payment_attempts(threeds_token);
CREATE INDEX payment_attempts_expiry ON payment_attempts(state, expires_at);

CREATE TABLE checkout_sessions (
    token TEXT PRIMARY KEY,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    status TEXT NOT NULL,
    product_id INTEGER,
    payment_id INTEGER,
    doc TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX checkout_sessions_merchant ON checkout_sessions(merchant_id, created_at);

CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    token TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    price_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    stock INTEGER,
    sold_count INTEGER NOT NULL DEFAULT 0,
    channel TEXT,
    expires_at INTEGER,
    doc TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX products_merchant ON products(merchant_id, id);

ALTER TABLE payments ADD COLUMN checkout_token TEXT;
ALTER TABLE payments ADD COLUMN product_id INTEGER;
