-- The points balance as a column: GET /me summed the user's whole ledger on every read. The ledger stays the record
-- (append-only, one row per source_key); users.points is kept equal to sum(delta) by a trigger that runs in the
-- same transaction as every ledger insert (and the erasure's delete), so the two can never disagree and no code
-- path can forget to update it.

-- No ledger row may commit between the backfill and the trigger's creation (another instance still running).
LOCK TABLE points_ledger IN SHARE ROW EXCLUSIVE MODE;

ALTER TABLE users ADD COLUMN points BIGINT NOT NULL DEFAULT 0;

UPDATE users u SET points = l.total
FROM (SELECT user_id, sum(delta) AS total FROM points_ledger GROUP BY user_id) l
WHERE l.user_id = u.id;

CREATE FUNCTION points_ledger_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE users SET points = points - OLD.delta WHERE id = OLD.user_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE users SET points = points + NEW.delta WHERE id = NEW.user_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER points_ledger_balance
AFTER INSERT OR DELETE OR UPDATE OF user_id, delta ON points_ledger
FOR EACH ROW EXECUTE FUNCTION points_ledger_balance();

-- TRUNCATE fires no row trigger: refuse it rather than leave balances behind.
CREATE FUNCTION points_ledger_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'points_ledger cannot be truncated (users.points is kept from its rows)';
END $$;

CREATE TRIGGER points_ledger_no_truncate BEFORE TRUNCATE ON points_ledger
FOR EACH STATEMENT EXECUTE FUNCTION points_ledger_no_truncate();
