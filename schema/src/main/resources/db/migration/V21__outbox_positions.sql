-- Consumers of the payment outbox (the notification relay, purchase events for the feed, campaign conversions), each
-- with a position of its own. A row is handed to a consumer in the transaction that moves the consumer's position
-- past it, so each consumer applies each row exactly once, across any number of servers.
--
-- Outbox ids are taken at insert but commit in any order, so "id > position" alone would skip a row whose transaction
-- commits after a later id was read. Rows are therefore consumed in (txid, id) order and only once every transaction
-- with that txid or an older one has finished (txid < the oldest transaction still running, pg_snapshot_xmin): no
-- row can appear behind a position afterwards.
ALTER TABLE outbox ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX outbox_txid ON outbox (txid, id);

CREATE TABLE outbox_positions (
    consumer    TEXT        PRIMARY KEY,
    last_txid   xid8        NOT NULL,
    last_id     BIGINT      NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
