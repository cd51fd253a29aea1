-- A row version for payments: every write bumps it, so the payment path can write the
-- outcome from the row it already holds ("only if nothing changed since") instead of
-- reading the row again through the single writer.
ALTER TABLE payments ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
