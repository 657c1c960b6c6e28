-- Platform operators (the people who run the mini-program itself) and a merchant's status. The first operator is
-- made on the command line (java -jar wxmp.jar operator create <username>); merchants are then made through the
-- operators' API. A suspended merchant keeps every row: only what users and its accounts see changes.

CREATE TABLE operators (
    id             BIGSERIAL PRIMARY KEY,
    username       TEXT        NOT NULL,
    password_hash  TEXT        NOT NULL,
    disabled       BOOLEAN     NOT NULL DEFAULT false,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX operators_username ON operators (lower(username));

ALTER TABLE merchants
    ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    ADD COLUMN status_changed_at TIMESTAMPTZ;
