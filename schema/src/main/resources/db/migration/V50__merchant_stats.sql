-- The merchants' dashboard (GET /admin/stats/overview): pre-aggregated hourly buckets, so a query reads at most
-- 24 rows a day whatever the number of orders behind them.
--
-- The buckets are kept by triggers on the rows that change state, inside the transaction that changes it: an order
-- counts once when its paid_at is first set, a refund once when it leaves 'processing' as 'succeeded', a quiz
-- attempt once when it is inserted. A rolled-back settlement rolls its bucket increments back with it, and a
-- duplicate notify (which changes no row) adds nothing. Hours are UTC hours; Asia/Shanghai has no daylight saving
-- and a whole-hour offset, so its hours and days are unions of these buckets.

CREATE TABLE merchant_stats_hourly (
    merchant_id     BIGINT      NOT NULL REFERENCES merchants (id),
    hour            TIMESTAMPTZ NOT NULL,
    revenue_fen     BIGINT      NOT NULL DEFAULT 0,
    orders          BIGINT      NOT NULL DEFAULT 0,
    refunds_fen     BIGINT      NOT NULL DEFAULT 0,
    quiz_attempts   BIGINT      NOT NULL DEFAULT 0,
    impressions     BIGINT      NOT NULL DEFAULT 0,
    clicks          BIGINT      NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, hour)
);

-- When a user first paid this merchant or first took one of its quizzes ("new users" of the range). Erasing a user
-- erases these rows with it.
CREATE TABLE merchant_customers (
    merchant_id  BIGINT      NOT NULL REFERENCES merchants (id),
    user_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    first_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (merchant_id, user_id)
);
CREATE INDEX merchant_customers_first ON merchant_customers (merchant_id, first_at);

-- Distinct buyers per bucket cannot be summed from buckets; this index answers them by an index-only scan of the
-- paid orders in the range, never touching the table.
CREATE INDEX orders_merchant_paid ON orders (merchant_id, paid_at) INCLUDE (user_id) WHERE paid_at IS NOT NULL;

CREATE FUNCTION merchant_stats_add(m BIGINT, at TIMESTAMPTZ, revenue BIGINT, paid BIGINT, refunded BIGINT,
                                   attempts BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO merchant_stats_hourly AS s (merchant_id, hour, revenue_fen, orders, refunds_fen, quiz_attempts)
    VALUES (m, date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', revenue, paid, refunded, attempts)
    ON CONFLICT (merchant_id, hour) DO UPDATE SET
        revenue_fen = s.revenue_fen + EXCLUDED.revenue_fen,
        orders = s.orders + EXCLUDED.orders,
        refunds_fen = s.refunds_fen + EXCLUDED.refunds_fen,
        quiz_attempts = s.quiz_attempts + EXCLUDED.quiz_attempts;
$$;

CREATE FUNCTION merchant_customer_seen(m BIGINT, u BIGINT, at TIMESTAMPTZ) RETURNS void LANGUAGE sql AS $$
    INSERT INTO merchant_customers AS c (merchant_id, user_id, first_at) VALUES (m, u, at)
    ON CONFLICT (merchant_id, user_id) DO UPDATE SET first_at = LEAST(c.first_at, EXCLUDED.first_at)
    WHERE EXCLUDED.first_at < c.first_at;
$$;

CREATE FUNCTION merchant_stats_order_paid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM merchant_stats_add(NEW.merchant_id, NEW.paid_at, NEW.amount_fen, 1, 0, 0);
    PERFORM merchant_customer_seen(NEW.merchant_id, NEW.user_id, NEW.paid_at);
    RETURN NULL;
END $$;
CREATE TRIGGER merchant_stats_order_paid AFTER UPDATE OF paid_at ON orders
    FOR EACH ROW WHEN (OLD.paid_at IS NULL AND NEW.paid_at IS NOT NULL)
    EXECUTE FUNCTION merchant_stats_order_paid();

CREATE FUNCTION merchant_stats_refund_succeeded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM merchant_stats_add(o.merchant_id, COALESCE(NEW.settled_at, now()), 0, 0, NEW.amount_fen, 0)
    FROM orders o WHERE o.id = NEW.order_id;
    RETURN NULL;
END $$;
CREATE TRIGGER merchant_stats_refund_succeeded AFTER UPDATE OF status ON refunds
    FOR EACH ROW WHEN (OLD.status <> 'succeeded' AND NEW.status = 'succeeded')
    EXECUTE FUNCTION merchant_stats_refund_succeeded();

CREATE FUNCTION merchant_stats_attempt_started() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE m BIGINT;
BEGIN
    SELECT q.merchant_id INTO m FROM quizzes q WHERE q.id = NEW.quiz_id;
    PERFORM merchant_stats_add(m, NEW.started_at, 0, 0, 0, 1);
    PERFORM merchant_customer_seen(m, NEW.user_id, NEW.started_at);
    RETURN NULL;
END $$;
CREATE TRIGGER merchant_stats_attempt_started AFTER INSERT ON quiz_attempts
    FOR EACH ROW EXECUTE FUNCTION merchant_stats_attempt_started();

-- What happened before this migration.
INSERT INTO merchant_stats_hourly (merchant_id, hour, revenue_fen, orders, refunds_fen, quiz_attempts)
SELECT merchant_id, hour, sum(revenue), sum(paid), sum(refunded), sum(attempts) FROM (
    SELECT merchant_id, date_trunc('hour', paid_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour,
           amount_fen AS revenue, 1 AS paid, 0 AS refunded, 0 AS attempts
    FROM orders WHERE paid_at IS NOT NULL
    UNION ALL
    SELECT o.merchant_id, date_trunc('hour', COALESCE(r.settled_at, r.created_at) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
           0, 0, r.amount_fen, 0
    FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.status = 'succeeded'
    UNION ALL
    SELECT q.merchant_id, date_trunc('hour', a.started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 0, 0, 0, 1
    FROM quiz_attempts a JOIN quizzes q ON q.id = a.quiz_id
) AS happened GROUP BY merchant_id, hour;

INSERT INTO merchant_customers (merchant_id, user_id, first_at)
SELECT merchant_id, user_id, min(at) FROM (
    SELECT merchant_id, user_id, paid_at AS at FROM orders WHERE paid_at IS NOT NULL
    UNION ALL
    SELECT q.merchant_id, a.user_id, a.started_at FROM quiz_attempts a JOIN quizzes q ON q.id = a.quiz_id
) AS seen GROUP BY merchant_id, user_id;
