-- One posting of the wallet ledger in one round trip. `Store::post_transfer` ran it as five
-- statements (BEGIN, the transfer insert, the debit and credit updates, COMMIT), each a
-- round trip to a backend competing for the same cores; this function runs the same
-- statements server-side, called as one autocommitted statement. A refusal raises an
-- exception (message `orkestra:<outcome>[:detail]`), which rolls the whole statement back,
-- so nothing is written unless the posting applies. The SQL inside is `post_in`'s, kept in
-- step with it (crates/store/src/wallet.rs); the SQLite path and postings inside larger
-- transactions still use `post_in`.
CREATE FUNCTION orkestra_ledger_post(
    p_transfer_id TEXT,
    p_merchant_id BIGINT,
    p_debit_account_id BIGINT,
    p_credit_account_id BIGINT,
    p_amount BIGINT,
    p_currency TEXT,
    p_kind TEXT,
    p_pending_id TEXT,
    p_code BIGINT,
    p_ref_kind TEXT,
    p_ref_id BIGINT,
    p_doc TEXT,
    p_created_at BIGINT,
    -- The pending transfer's new status when this posts or voids it, else NULL.
    p_resolves_status TEXT,
    p_pending_delta BIGINT,
    p_posted_delta BIGINT,
    -- pending + posted delta (saturated by the caller).
    p_debit_increase BIGINT,
    -- The debit's limit cap (the ledger's balance maximum when none).
    p_debit_limit_cap BIGINT
) RETURNS BIGINT
LANGUAGE plpgsql AS $$
DECLARE
    v_seq BIGINT;
    v_status TEXT;
    v_debit BOOLEAN;
BEGIN
    WITH t AS (
        INSERT INTO ledger_transfers (transfer_id, merchant_id, debit_account_id, credit_account_id, amount, currency, kind, pending_id, code, ref_kind, ref_id, doc, created_at)
        VALUES (p_transfer_id, p_merchant_id, p_debit_account_id, p_credit_account_id, p_amount, p_currency, p_kind, p_pending_id, p_code, p_ref_kind, p_ref_id, p_doc, p_created_at)
        ON CONFLICT (transfer_id) DO NOTHING
        RETURNING id, merchant_id, debit_account_id, credit_account_id, kind
    ), e AS (
        INSERT INTO webhook_events (merchant_id, event_type, status, payload_id, event_time, state, attempts, next_attempt_at)
        SELECT t.merchant_id, 'WALLET_TX_CREATED', 'SUCCESS', CAST(t.id AS TEXT), p_created_at, 'pending', 0, p_created_at
        FROM t JOIN merchants m ON m.id = t.merchant_id
        WHERE t.kind IN ('single', 'post') AND m.webhook_url IS NOT NULL AND m.webhook_url <> ''
          AND EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id IN (t.debit_account_id, t.credit_account_id) AND a.kind = 'member_wallet')
    )
    SELECT id INTO v_seq FROM t;
    IF v_seq IS NULL THEN
        RAISE EXCEPTION 'orkestra:exists';
    END IF;

    IF p_resolves_status IS NOT NULL THEN
        UPDATE ledger_pending SET status = p_resolves_status, updated_at = p_created_at
        WHERE transfer_id = p_pending_id AND status = 'pending';
        IF NOT FOUND THEN
            SELECT status INTO v_status FROM ledger_pending WHERE transfer_id = p_pending_id;
            RAISE EXCEPTION 'orkestra:pending_not_open:%', COALESCE(v_status, '');
        END IF;
    END IF;

    -- Both accounts in ascending id order, as every other writer locks them.
    FOREACH v_debit IN ARRAY CASE WHEN p_debit_account_id <= p_credit_account_id
                                  THEN ARRAY[TRUE, FALSE] ELSE ARRAY[FALSE, TRUE] END
    LOOP
        IF v_debit THEN
            UPDATE ledger_accounts
            SET debits_pending = debits_pending + p_pending_delta,
                debits_posted = debits_posted + p_posted_delta,
                updated_at = p_created_at
            WHERE id = p_debit_account_id AND merchant_id = p_merchant_id AND currency = p_currency
              AND (negative_amount_limit IS NULL OR p_debit_increase <= 0
                   OR credits_posted - debits_posted - debits_pending
                      + (CASE WHEN p_debit_limit_cap < negative_amount_limit THEN p_debit_limit_cap ELSE negative_amount_limit END)
                      >= p_debit_increase)
              AND debits_pending + p_pending_delta BETWEEN 0 AND 1000000000000000000
              AND debits_posted + p_posted_delta BETWEEN 0 AND 1000000000000000000;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'orkestra:debit_refused';
            END IF;
        ELSE
            UPDATE ledger_accounts
            SET credits_pending = credits_pending + p_pending_delta,
                credits_posted = credits_posted + p_posted_delta,
                updated_at = p_created_at
            WHERE id = p_credit_account_id AND merchant_id = p_merchant_id AND currency = p_currency
              AND credits_pending + p_pending_delta BETWEEN 0 AND 1000000000000000000
              AND credits_posted + p_posted_delta BETWEEN 0 AND 1000000000000000000;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'orkestra:credit_refused';
            END IF;
        END IF;
    END LOOP;

    IF p_kind = 'pending' THEN
        INSERT INTO ledger_pending (transfer_id, status, updated_at) VALUES (p_transfer_id, 'pending', p_created_at);
    END IF;
    RETURN v_seq;
END
$$;
