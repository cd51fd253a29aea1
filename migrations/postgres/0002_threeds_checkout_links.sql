-- 3D Secure attempts, hosted checkout sessions and pay-by-link products.
ALTER TABLE payment_attempts ADD COLUMN threeds_token TEXT;
ALTER TABLE payment_attempts ADD COLUMN threeds TEXT;
ALTER TABLE payment_attempts ADD COLUMN expires_at BIGINT;
CREATE UNIQUE INDEX payment_attempts_threeds_token ON payment_attempts(threeds_token);
CREATE INDEX payment_attempts_expiry ON payment_attempts(state, expires_at);

CREATE TABLE checkout_sessions (
    token TEXT PRIMARY KEY,
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    status TEXT NOT NULL,
    product_id BIGINT,
    payment_id BIGINT,
    doc TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX checkout_sessions_merchant ON checkout_sessions(merchant_id, created_at);

CREATE TABLE products (
    id BIGSERIAL PRIMARY KEY,
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    token TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    price_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    stock BIGINT,
    sold_count BIGINT NOT NULL DEFAULT 0,
    channel TEXT,
    expires_at BIGINT,
    doc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX products_merchant ON products(merchant_id, id);

ALTER TABLE payments ADD COLUMN checkout_token TEXT;
ALTER TABLE payments ADD COLUMN product_id BIGINT;
