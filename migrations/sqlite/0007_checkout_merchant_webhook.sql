-- A checkout session's own `merchantWebhookUrl`: when a payment on it ends, the token is
-- POSTed there as JSON, through the same outbox (retries, dead letter) as merchant webhooks.
ALTER TABLE checkout_sessions ADD COLUMN merchant_webhook_url TEXT;
-- Set for events that go to a per-request URL instead of the merchant's webhook URL.
ALTER TABLE webhook_events ADD COLUMN target_url TEXT;
