-- Feed experiments run by platform operators: arms with feed parameters and shares, a salt fixed at creation (the
-- user's arm is a hash of the experiment, its salt and the user, so it never changes while it runs and every server
-- computes the same one), and the impressions and clicks of tokens served under an arm, once per token and type.

CREATE TABLE experiments (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT        NOT NULL,
    arms        JSONB       NOT NULL,
    salt        TEXT        NOT NULL,
    status      TEXT        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'running', 'stopped')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at  TIMESTAMPTZ,
    stopped_at  TIMESTAMPTZ
);
-- One experiment runs at a time: a page has one set of feed parameters.
CREATE UNIQUE INDEX experiments_one_running ON experiments ((status)) WHERE status = 'running';

CREATE TABLE experiment_events (
    experiment_id  BIGINT      NOT NULL REFERENCES experiments (id),
    arm            TEXT        NOT NULL,
    token_id       TEXT        NOT NULL,
    event_type     TEXT        NOT NULL CHECK (event_type IN ('impression', 'click')),
    user_id        BIGINT      NOT NULL,
    item_id        BIGINT      NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (experiment_id, token_id, event_type)
);
CREATE INDEX experiment_events_arm ON experiment_events (experiment_id, arm);
CREATE INDEX experiment_events_clicks ON experiment_events (experiment_id, user_id, item_id, at)
    WHERE event_type = 'click';
