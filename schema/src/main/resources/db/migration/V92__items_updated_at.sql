-- The feed's catalogue copy reads the items changed since its last refresh (every WXMP_FEED_REFRESH_MS) by updated_at:
-- an index scan of the few changed rows instead of a scan of the whole table.
CREATE INDEX items_updated_at ON items (updated_at);
