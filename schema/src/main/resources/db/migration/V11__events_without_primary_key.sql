-- The events table keeps only the indexes its readers use: (user_id, at) for one user's events (export, erasure,
-- rebuilding a user's state) and the BRIN on at for time ranges (training, retention). The (id, at) primary key of
-- V10 served no reader and cost every insert a third B-tree entry; ids stay unique by coming from events_id_seq.
ALTER TABLE events DROP CONSTRAINT events_pkey;
