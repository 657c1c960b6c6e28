-- Distinct buyers of the dashboard's day buckets and of a range of days (GET /admin/stats/overview?bucket=day),
-- kept by the trigger that counts a paid order (V50), so that a year of day buckets reads a few hundred rows instead
-- of every paid order of the year. Days are Asia/Shanghai days, as the dashboard's.
--
-- merchant_buyer_days has one row per buyer and day with a purchase; merchant_stats_daily counts them per day;
-- merchant_buyers keeps each buyer's first and last such day. A buyer bought in [from, to) exactly when their first
-- day is in it, or their first day is before it and their last day in it, or they span it and have a day inside
-- (the only case that reads merchant_buyer_days, and it is empty for a range that ends today). An erased user's rows
-- follow their orders to the anonymous user (PrivacyRepository re-points every foreign key to users), so the counts
-- stay what they were, as the orders do.

CREATE TABLE merchant_buyer_days (
    merchant_id  BIGINT NOT NULL REFERENCES merchants (id),
    day          DATE   NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (merchant_id, day, user_id)
);
CREATE INDEX merchant_buyer_days_user ON merchant_buyer_days (merchant_id, user_id, day);

CREATE TABLE merchant_stats_daily (
    merchant_id  BIGINT NOT NULL REFERENCES merchants (id),
    day          DATE   NOT NULL,
    buyers       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, day)
);

CREATE TABLE merchant_buyers (
    merchant_id  BIGINT NOT NULL REFERENCES merchants (id),
    user_id      BIGINT NOT NULL REFERENCES users (id),
    first_day    DATE   NOT NULL,
    last_day     DATE   NOT NULL,
    PRIMARY KEY (merchant_id, user_id)
);
CREATE INDEX merchant_buyers_first ON merchant_buyers (merchant_id, first_day);
CREATE INDEX merchant_buyers_last ON merchant_buyers (merchant_id, last_day) INCLUDE (first_day);

CREATE FUNCTION merchant_buyer_seen(m BIGINT, u BIGINT, at TIMESTAMPTZ) RETURNS void LANGUAGE plpgsql AS $$
DECLARE d DATE := (at AT TIME ZONE 'Asia/Shanghai')::date;
BEGIN
    INSERT INTO merchant_buyer_days (merchant_id, day, user_id) VALUES (m, d, u) ON CONFLICT DO NOTHING;
    IF FOUND THEN
        INSERT INTO merchant_stats_daily AS s (merchant_id, day, buyers) VALUES (m, d, 1)
        ON CONFLICT (merchant_id, day) DO UPDATE SET buyers = s.buyers + 1;
        INSERT INTO merchant_buyers AS b (merchant_id, user_id, first_day, last_day) VALUES (m, u, d, d)
        ON CONFLICT (merchant_id, user_id) DO UPDATE
            SET first_day = LEAST(b.first_day, d), last_day = GREATEST(b.last_day, d);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION merchant_stats_order_paid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM merchant_stats_add(NEW.merchant_id, NEW.paid_at, NEW.amount_fen, 1, 0, 0);
    PERFORM merchant_customer_seen(NEW.merchant_id, NEW.user_id, NEW.paid_at);
    PERFORM merchant_buyer_seen(NEW.merchant_id, NEW.user_id, NEW.paid_at);
    RETURN NULL;
END $$;

-- What was paid before this migration.
INSERT INTO merchant_buyer_days (merchant_id, day, user_id)
SELECT DISTINCT merchant_id, (paid_at AT TIME ZONE 'Asia/Shanghai')::date, user_id FROM orders WHERE paid_at IS NOT NULL;
INSERT INTO merchant_stats_daily (merchant_id, day, buyers)
SELECT merchant_id, day, count(*) FROM merchant_buyer_days GROUP BY merchant_id, day;
INSERT INTO merchant_buyers (merchant_id, user_id, first_day, last_day)
SELECT merchant_id, user_id, min(day), max(day) FROM merchant_buyer_days GROUP BY merchant_id, user_id;
