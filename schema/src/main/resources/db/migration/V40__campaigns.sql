-- Ad campaigns: what merchants promote in the feed, the billing ledger that is the truth of their spend, the daily
-- spend rows that hold the daily budget, and the conversions attributed to them. Exactly-once billing rests on
-- campaign_ledger's unique (token_id, event_type); "never over budget" on the conditional updates of
-- campaigns.spent_millifen and campaign_daily_spend.spent_millifen in the transaction that writes the ledger row.
-- Money here is in millifen (1/1000 fen): a CPM bid of b fen costs exactly b millifen per impression, so fractions
-- of a fen are carried, never rounded away.

CREATE TABLE campaigns (
    id                BIGSERIAL PRIMARY KEY,
    merchant_id       BIGINT      NOT NULL REFERENCES merchants (id),
    item_id           BIGINT      NOT NULL REFERENCES items (id),
    name              TEXT        NOT NULL,
    target_tags       TEXT[]      NOT NULL DEFAULT '{}',
    new_users_only    BOOLEAN     NOT NULL DEFAULT false,
    bid_model         TEXT        NOT NULL CHECK (bid_model IN ('cpm', 'cpc')),
    bid_fen           BIGINT      NOT NULL CHECK (bid_fen >= 1),
    budget_total_fen  BIGINT      NOT NULL CHECK (budget_total_fen >= 1),
    budget_daily_fen  BIGINT      NOT NULL CHECK (budget_daily_fen >= 1),
    cap_impressions   INTEGER     CHECK (cap_impressions IS NULL OR cap_impressions >= 1),
    cap_per_hours     INTEGER     CHECK (cap_per_hours IS NULL OR cap_per_hours >= 1),
    start_at          TIMESTAMPTZ NOT NULL,
    end_at            TIMESTAMPTZ,
    status            TEXT        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'ended')),
    -- Denormalised sums of the ledger, moved only in the ledger's own transaction (so they always agree with it).
    spent_millifen    BIGINT      NOT NULL DEFAULT 0 CHECK (spent_millifen >= 0),
    impressions       BIGINT      NOT NULL DEFAULT 0,
    clicks            BIGINT      NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (end_at IS NULL OR end_at > start_at),
    CHECK (budget_daily_fen <= budget_total_fen),
    CHECK ((cap_impressions IS NULL) = (cap_per_hours IS NULL))
);
CREATE INDEX campaigns_merchant ON campaigns (merchant_id, id DESC);
CREATE INDEX campaigns_active ON campaigns (start_at) WHERE status = 'active';

-- One row per billable event: a token counts at most once per event type. cost_millifen is 0 for the event type
-- the bid model does not charge (clicks of a CPM campaign) and for events that came after the budget was spent.
CREATE TABLE campaign_ledger (
    id             BIGSERIAL PRIMARY KEY,
    campaign_id    BIGINT      NOT NULL REFERENCES campaigns (id),
    token_id       TEXT        NOT NULL,
    event_type     TEXT        NOT NULL CHECK (event_type IN ('impression', 'click')),
    user_id        BIGINT      NOT NULL,
    item_id        BIGINT      NOT NULL,
    event_id       BIGINT,
    cost_millifen  BIGINT      NOT NULL CHECK (cost_millifen >= 0),
    at             TIMESTAMPTZ NOT NULL,
    UNIQUE (token_id, event_type)
);
CREATE INDEX campaign_ledger_campaign ON campaign_ledger (campaign_id, at);
CREATE INDEX campaign_ledger_user ON campaign_ledger (user_id, campaign_id, at);

-- The daily budget's truth: spend per campaign per Asia/Shanghai day.
CREATE TABLE campaign_daily_spend (
    campaign_id     BIGINT NOT NULL REFERENCES campaigns (id),
    day             DATE   NOT NULL,
    spent_millifen  BIGINT NOT NULL CHECK (spent_millifen >= 0),
    PRIMARY KEY (campaign_id, day)
);

-- A paid order of a campaign's item by a user who clicked the campaign in the 7 days before paying (last click
-- wins); one row per order; a full refund sets undone_at.
CREATE TABLE campaign_conversions (
    order_id     BIGINT      PRIMARY KEY REFERENCES orders (id),
    campaign_id  BIGINT      NOT NULL REFERENCES campaigns (id),
    user_id      BIGINT      NOT NULL,
    item_id      BIGINT      NOT NULL,
    click_at     TIMESTAMPTZ NOT NULL,
    paid_at      TIMESTAMPTZ NOT NULL,
    amount_fen   BIGINT      NOT NULL,
    undone_at    TIMESTAMPTZ
);
CREATE INDEX campaign_conversions_campaign ON campaign_conversions (campaign_id, paid_at);
