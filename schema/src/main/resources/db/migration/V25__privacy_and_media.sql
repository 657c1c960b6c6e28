-- Uploaded images (avatars; merchant covers may use it too), served at /media/{id} and never changed: a new upload is a
-- new id. PostgreSQL is enough at this scale (an avatar is at most 1 MiB); beyond it, an object store (S3, COS) with
-- this table keeping only the key.
CREATE TABLE media (
    id              TEXT        PRIMARY KEY,
    owner_user_id   BIGINT      REFERENCES users (id),
    content_type    TEXT        NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size_bytes      INTEGER     NOT NULL CHECK (size_bytes > 0),
    sha256          TEXT        NOT NULL,
    bytes           BYTEA       NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX media_owner ON media (owner_user_id) WHERE owner_user_id IS NOT NULL;

-- DELETE /me: the user's row is deleted; orders (accounting records) move to a row of its own with no personal data,
-- marked erased_at, so the orders still add up and nothing leads back to the person.
ALTER TABLE users ADD COLUMN erased_at TIMESTAMPTZ;
