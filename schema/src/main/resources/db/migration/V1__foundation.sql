-- Foundation: merchants and their accounts, WeChat users, and the two per-user balances that GET /me shows
-- (points ledger, memberships). Features add their own tables in later migrations.

CREATE TABLE merchants (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE merchant_accounts (
    id             BIGSERIAL PRIMARY KEY,
    merchant_id    BIGINT      NOT NULL REFERENCES merchants (id),
    username       TEXT        NOT NULL,
    password_hash  TEXT        NOT NULL,
    role           TEXT        NOT NULL CHECK (role IN ('owner', 'editor', 'analyst')),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX merchant_accounts_username ON merchant_accounts (lower(username));

CREATE TABLE users (
    id             BIGSERIAL PRIMARY KEY,
    openid         TEXT        NOT NULL UNIQUE,
    unionid        TEXT,
    nickname       TEXT,
    avatar_url     TEXT,
    phone          TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX users_unionid ON users (unionid) WHERE unionid IS NOT NULL;

-- Append-only: a row is never updated or deleted. source_key names what earned the points
-- ("quiz-attempt:42", "order:17"), so the same source can never award twice.
CREATE TABLE points_ledger (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id),
    source_key  TEXT        NOT NULL UNIQUE,
    delta       INTEGER     NOT NULL,
    reason      TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX points_ledger_user ON points_ledger (user_id);

-- A membership grants every paid item of its merchant until member_until.
CREATE TABLE memberships (
    user_id       BIGINT      NOT NULL REFERENCES users (id),
    merchant_id   BIGINT      NOT NULL REFERENCES merchants (id),
    member_until  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, merchant_id)
);
