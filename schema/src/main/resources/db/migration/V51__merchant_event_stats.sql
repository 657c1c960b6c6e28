-- Impressions and clicks on the merchants' dashboard, counted in the transaction that stores the events, so a
-- committed batch counts exactly once and a failed one not at all.
--
-- API.md: statistics count an impression or a click only when the event carries a valid token that the server issued
-- to that user (ingestion stores token_id only for those), and each token at most once per event type:
-- merchant_stats_tokens is that "once" (a replayed token finds its row and adds nothing). It keeps one narrow row
-- per counted token and type; a token has no expiry, so neither does its row.
--
-- Concurrent batches for one merchant's items in one hour would all update the same counter row and queue on its
-- lock until each commits; the counter is split into 8 shards by the inserting backend, and reads sum them.

CREATE TABLE merchant_event_stats_hourly (
    merchant_id  BIGINT      NOT NULL,
    hour         TIMESTAMPTZ NOT NULL,
    shard        SMALLINT    NOT NULL,
    impressions  BIGINT      NOT NULL DEFAULT 0,
    clicks       BIGINT      NOT NULL DEFAULT 0,
    PRIMARY KEY (merchant_id, hour, shard)
);

CREATE TABLE merchant_stats_tokens (
    token_id  TEXT NOT NULL,
    type      TEXT NOT NULL,
    PRIMARY KEY (token_id, type)
);

CREATE FUNCTION merchant_stats_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH counted AS (
        INSERT INTO merchant_stats_tokens (token_id, type)
        SELECT DISTINCT token_id, type FROM new_events
        WHERE token_id IS NOT NULL AND type IN ('impression', 'click')
        ON CONFLICT DO NOTHING
        RETURNING token_id, type
    ), firsts AS (
        SELECT DISTINCT ON (e.token_id, e.type) e.item_id, e.type, e.at
        FROM new_events e JOIN counted c ON c.token_id = e.token_id AND c.type = e.type
        ORDER BY e.token_id, e.type, e.at
    )
    INSERT INTO merchant_event_stats_hourly AS s (merchant_id, hour, shard, impressions, clicks)
    SELECT i.merchant_id, date_trunc('hour', f.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', pg_backend_pid() % 8,
           count(*) FILTER (WHERE f.type = 'impression'), count(*) FILTER (WHERE f.type = 'click')
    FROM firsts f JOIN items i ON i.id = f.item_id
    GROUP BY 1, 2, 3
    ON CONFLICT (merchant_id, hour, shard) DO UPDATE SET
        impressions = s.impressions + EXCLUDED.impressions,
        clicks = s.clicks + EXCLUDED.clicks;
    RETURN NULL;
END $$;

CREATE TRIGGER merchant_stats_events AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION merchant_stats_events();

-- What was stored before this migration.
INSERT INTO merchant_stats_tokens (token_id, type)
SELECT DISTINCT token_id, type FROM events WHERE token_id IS NOT NULL AND type IN ('impression', 'click');
INSERT INTO merchant_event_stats_hourly (merchant_id, hour, shard, impressions, clicks)
SELECT i.merchant_id, date_trunc('hour', f.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', 0,
       count(*) FILTER (WHERE f.type = 'impression'), count(*) FILTER (WHERE f.type = 'click')
FROM (SELECT DISTINCT ON (token_id, type) item_id, type, at FROM events
      WHERE token_id IS NOT NULL AND type IN ('impression', 'click') ORDER BY token_id, type, at) f
JOIN items i ON i.id = f.item_id
GROUP BY 1, 2;
