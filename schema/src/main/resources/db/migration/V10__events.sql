-- Behaviour events for the feed (POST /events from the mini-program, purchases from the payment outbox).
--
-- Built for volume: append-only, range-partitioned by month on "at" (the time the event happened), so the retention
-- job drops whole partitions instead of deleting rows, and training scans only the months it reads. Each partition
-- carries one narrow B-tree (user_id, at) for per-user reads (export, erasure, rebuilding one user's state) and a
-- BRIN on at (a few pages per partition, nearly free to maintain) for time-range scans. No foreign keys: ingestion
-- validates items and users before inserting, and a per-row key check would cost every insert.
--
-- Partitions are created ahead by the maintenance job (EventsMaintenance); the default partition only catches an
-- event whose month has no partition yet, and the job moves such rows into the month's partition when it makes it.
-- Ingestion takes ids from the sequence itself (nextval in the insert), so it knows which input row got which id.
CREATE SEQUENCE events_id_seq AS BIGINT;
CREATE TABLE events (
    id             BIGINT      NOT NULL DEFAULT nextval('events_id_seq'),
    user_id        BIGINT      NOT NULL,
    item_id        BIGINT      NOT NULL,
    type           TEXT        NOT NULL CHECK (type IN ('impression', 'click', 'like', 'share', 'dwell', 'complete',
                                                        'purchase', 'refund')),
    at             TIMESTAMPTZ NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    dwell_ms       INTEGER     CHECK (dwell_ms IS NULL OR dwell_ms >= 0),
    -- the client's id of the event (dedup key, see event_ids), or the server's key for a server-side event
    client_id      TEXT,
    -- the served slot the event is about, from a FeedToken verified for this user and item (all null otherwise)
    token_id       TEXT,
    position       INTEGER,
    reason_kind    TEXT,
    campaign_id    TEXT,
    experiment_id  TEXT,
    arm            TEXT,
    model_version  TEXT,
    -- the user who shared the item (a share open)
    ref_user_id    BIGINT,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);

ALTER SEQUENCE events_id_seq OWNED BY events.id;

CREATE INDEX events_user_at ON events (user_id, at DESC);
CREATE INDEX events_at_brin ON events USING brin (at);

CREATE TABLE events_default PARTITION OF events DEFAULT;

-- Makes the partition of one month (UTC) unless it exists; rows that the default partition caught for that month
-- move into it first, so attaching it never fails. Returns whether it made one.
CREATE FUNCTION events_ensure_partition(month_start DATE) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    name TEXT := 'events_p' || to_char(month_start, 'YYYYMM');
    lo   TIMESTAMPTZ := (to_char(month_start, 'YYYY-MM-01') || ' 00:00:00+00')::timestamptz;
    hi   TIMESTAMPTZ := (to_char(month_start + interval '1 month', 'YYYY-MM-01') || ' 00:00:00+00')::timestamptz;
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    EXECUTE format('WITH moved AS (DELETE FROM events_default WHERE at >= %L AND at < %L RETURNING *) '
                   'INSERT INTO %I SELECT * FROM moved', lo, hi, name);
    EXECUTE format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
    RETURN true;
END
$$;

-- Drops every monthly partition that lies wholly before the cutoff; returns how many.
CREATE FUNCTION events_drop_partitions_before(cutoff TIMESTAMPTZ) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
    part    RECORD;
    dropped INTEGER := 0;
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_p[0-9]{6}$'
    LOOP
        IF (to_date(substr(part.relname, 9), 'YYYYMM') + interval '1 month')::date
           <= (cutoff AT TIME ZONE 'UTC')::date THEN
            EXECUTE format('ALTER TABLE events DETACH PARTITION %I', part.relname);
            EXECUTE format('DROP TABLE %I', part.relname);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    RETURN dropped;
END
$$;

-- The month before this one (an event's "at" may be 7 days old), this one and the next two, so a fresh database takes
-- events before the job first runs.
SELECT events_ensure_partition((date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date)
FROM generate_series(-1, 2) AS i;

-- Client event ids seen per user: the unique key that makes a retried or concurrently repeated event a duplicate.
-- Kept apart from the partitioned table because a unique key there would have to include "at", and a retry of an
-- event sent without "at" gets a new one. Rows are kept for 8 days (the 7 days an event's "at" may lie in the past,
-- plus a margin) and pruned by the maintenance job through the BRIN on seen_at (rows arrive in time order).
CREATE TABLE event_ids (
    user_id    BIGINT      NOT NULL,
    client_id  TEXT        NOT NULL,
    seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX event_ids_seen_brin ON event_ids USING brin (seen_at);
