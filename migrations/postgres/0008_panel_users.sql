-- Merchant panel: users (argon2id password hashes), server-side sessions (only the SHA-256
-- of the cookie token is kept, with the session's CSRF token) and the audit log.
CREATE TABLE panel_users (
    id BIGSERIAL PRIMARY KEY,
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    totp_secret_sealed TEXT,
    failed_sign_ins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX panel_users_merchant ON panel_users(merchant_id);

CREATE TABLE panel_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES panel_users(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX panel_sessions_user ON panel_sessions(user_id);

CREATE TABLE panel_audit (
    id BIGSERIAL PRIMARY KEY,
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    user_id BIGINT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    detail TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX panel_audit_merchant ON panel_audit(merchant_id, id);
