-- The feed's learned model, versioned: one row per training run, with the item and user vectors it produced.
-- Every server loads the item vectors of the newest 'serving' version into its ranking verticle; user vectors are
-- the fallback for users without a fresher folded-in vector in Redis. Old versions are deleted by the training job
-- (ON DELETE CASCADE takes their vectors). Vectors are float32 little-endian, dim * 4 bytes.

-- PIPL art. 24: a user may turn personalisation off (PATCH /me {"personalised": false}).
ALTER TABLE users ADD COLUMN personalised BOOLEAN NOT NULL DEFAULT true;

CREATE TABLE feed_models (
    id          BIGSERIAL PRIMARY KEY,
    version     TEXT        NOT NULL UNIQUE,
    status      TEXT        NOT NULL DEFAULT 'training' CHECK (status IN ('training', 'serving', 'failed')),
    params      JSONB       NOT NULL,
    users       INTEGER,
    items       INTEGER,
    nnz         BIGINT,
    metrics     JSONB,
    error       TEXT,
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    trained_at  TIMESTAMPTZ
);
CREATE INDEX feed_models_serving ON feed_models (id DESC) WHERE status = 'serving';

CREATE TABLE feed_item_vectors (
    model_id  BIGINT NOT NULL REFERENCES feed_models (id) ON DELETE CASCADE,
    item_id   BIGINT NOT NULL,
    vector    BYTEA  NOT NULL,
    PRIMARY KEY (model_id, item_id)
);

-- top_items: the user's strongest items in the training data, newest model only (the "because of" of a similar entry).
CREATE TABLE feed_user_vectors (
    model_id   BIGINT   NOT NULL REFERENCES feed_models (id) ON DELETE CASCADE,
    user_id    BIGINT   NOT NULL,
    vector     BYTEA    NOT NULL,
    top_items  BIGINT[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (model_id, user_id)
);
CREATE INDEX feed_user_vectors_user ON feed_user_vectors (user_id);
