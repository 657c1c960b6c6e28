-- Every write by a merchant account or an operator, written in the transaction of the write itself (a rolled-back
-- write leaves no entry, a committed one always has one). Append-only.
CREATE TABLE audit_log (
    id              BIGSERIAL PRIMARY KEY,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- whose data changed: GET /admin/audit lists a merchant's own entries only
    merchant_id     BIGINT      REFERENCES merchants (id),
    actor_kind      TEXT        NOT NULL CHECK (actor_kind IN ('merchant_account', 'operator')),
    actor_id        BIGINT      NOT NULL,
    -- as it was at the time (an account renamed later keeps its old name here)
    actor_username  TEXT        NOT NULL,
    request_id      TEXT,
    action          TEXT        NOT NULL,
    target_type     TEXT        NOT NULL,
    target_id       TEXT,
    changes         JSONB       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_merchant ON audit_log (merchant_id, id DESC);

-- Which merchant account asked for a refund.
ALTER TABLE refunds ADD COLUMN requested_by BIGINT REFERENCES merchant_accounts (id);
