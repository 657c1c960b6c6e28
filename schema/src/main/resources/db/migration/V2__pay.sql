-- Paid knowledge content and WeChat Pay: items, orders, the notifies we have applied, what users own, refunds, and
-- an outbox for what follows a payment. Exactly-once rests on the unique keys and conditional updates here:
-- pay_notifications.id (a notify applies once), orders.status moved only by "UPDATE ... WHERE status = ...",
-- entitlements (user_id, item_id) unique, refunds.out_refund_no unique.

CREATE TABLE items (
    id               BIGSERIAL PRIMARY KEY,
    merchant_id      BIGINT      NOT NULL REFERENCES merchants (id),
    kind             TEXT        NOT NULL CHECK (kind IN ('article', 'course', 'product', 'membership', 'quiz')),
    title            TEXT        NOT NULL,
    summary          TEXT        NOT NULL DEFAULT '',
    body             TEXT        NOT NULL DEFAULT '',
    preview          TEXT,
    cover_url        TEXT,
    tags             TEXT[]      NOT NULL DEFAULT '{}',
    price_fen        BIGINT      CHECK (price_fen IS NULL OR price_fen >= 1),
    membership_days  INTEGER     CHECK (membership_days IS NULL OR membership_days BETWEEN 1 AND 3660),
    status           TEXT        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- A membership is sold for a number of days; nothing else has one.
    CHECK ((kind = 'membership') = (membership_days IS NOT NULL))
);
CREATE INDEX items_merchant ON items (merchant_id, id DESC);
CREATE INDEX items_published ON items (id DESC) WHERE status = 'published';

CREATE TABLE orders (
    id               BIGSERIAL PRIMARY KEY,
    out_trade_no     TEXT        NOT NULL UNIQUE,
    user_id          BIGINT      NOT NULL REFERENCES users (id),
    item_id          BIGINT      NOT NULL REFERENCES items (id),
    merchant_id      BIGINT      NOT NULL REFERENCES merchants (id),
    amount_fen       BIGINT      NOT NULL CHECK (amount_fen >= 1),
    status           TEXT        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'paid', 'closed', 'refunding', 'refunded')),
    -- Set when WeChat Pay reported something that does not match the order (amount, appid, mchid): a person looks
    -- at it; nothing is granted and the reconciliation job leaves the order alone.
    review_reason    TEXT,
    idempotency_key  TEXT,
    prepay_id        TEXT,
    pay_params       JSONB,
    transaction_id   TEXT,
    refunded_fen     BIGINT      NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0 AND refunded_fen <= amount_fen),
    expires_at       TIMESTAMPTZ NOT NULL,
    paid_at          TIMESTAMPTZ,
    closed_at        TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX orders_user ON orders (user_id, id DESC);
CREATE INDEX orders_merchant ON orders (merchant_id, id DESC);
CREATE INDEX orders_pending ON orders (created_at) WHERE status = 'pending' AND review_reason IS NULL;

-- One row per notify id WeChat Pay sent us and we applied (in the same transaction as its effects).
CREATE TABLE pay_notifications (
    id            TEXT        PRIMARY KEY,
    event_type    TEXT        NOT NULL,
    out_trade_no  TEXT,
    outcome       TEXT,
    received_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- What a user owns because of an order; one row per user and item. A full refund sets revoked_at; buying the item
-- again clears it.
CREATE TABLE entitlements (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id),
    item_id     BIGINT      NOT NULL REFERENCES items (id),
    order_id    BIGINT      NOT NULL REFERENCES orders (id),
    granted_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ,
    UNIQUE (user_id, item_id)
);

CREATE TABLE refunds (
    id             BIGSERIAL PRIMARY KEY,
    order_id       BIGINT      NOT NULL REFERENCES orders (id),
    out_refund_no  TEXT        NOT NULL UNIQUE,
    amount_fen     BIGINT      NOT NULL CHECK (amount_fen >= 1),
    reason         TEXT        NOT NULL,
    status         TEXT        NOT NULL DEFAULT 'processing'
                   CHECK (status IN ('processing', 'succeeded', 'closed', 'abnormal', 'failed')),
    refund_id      TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    settled_at     TIMESTAMPTZ
);
CREATE INDEX refunds_processing ON refunds (created_at) WHERE status = 'processing';
CREATE INDEX refunds_order ON refunds (order_id);

-- Written in the transaction that changed the state, read by whatever follows (stats, subscribe messages).
CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    topic         TEXT        NOT NULL,
    payload       JSONB       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at  TIMESTAMPTZ
);
CREATE INDEX outbox_unprocessed ON outbox (id) WHERE processed_at IS NULL;
