-- Webhook outbox: an event is written in the same transaction as the change it reports.
CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id INTEGER NOT NULL REFERENCES merchants(id),
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    payload_id TEXT NOT NULL,
    event_time INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    delivered_at INTEGER
);
CREATE INDEX webhook_events_due ON webhook_events(state, next_attempt_at);
CREATE INDEX webhook_events_merchant ON webhook_events(merchant_id, id);
