-- Quizzes (互动问答): merchants write them, users answer them for points and a place on a leaderboard.
--
-- Content is versioned: quizzes.version names the current question set; editing the questions writes a new set
-- (new question and choice rows under version + 1) and never touches an old one. An attempt pins the version it was
-- started with, so an in-flight attempt is scored against the questions it was shown and a finished attempt keeps
-- its stored score whatever the merchant edits later.

CREATE TABLE quizzes (
    id                  BIGSERIAL PRIMARY KEY,
    merchant_id         BIGINT      NOT NULL REFERENCES merchants (id),
    title               TEXT        NOT NULL,
    time_limit_sec      INTEGER     NOT NULL CHECK (time_limit_sec > 0),
    max_attempts        INTEGER     NOT NULL CHECK (max_attempts > 0),
    points_per_correct  INTEGER     NOT NULL CHECK (points_per_correct >= 0),
    start_at            TIMESTAMPTZ,
    end_at              TIMESTAMPTZ,
    status              TEXT        NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    version             INTEGER     NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (start_at IS NULL OR end_at IS NULL OR start_at < end_at)
);
CREATE INDEX quizzes_merchant ON quizzes (merchant_id, id DESC);

CREATE TABLE quiz_questions (
    id        BIGSERIAL PRIMARY KEY,
    quiz_id   BIGINT  NOT NULL REFERENCES quizzes (id),
    version   INTEGER NOT NULL,
    position  INTEGER NOT NULL,
    text      TEXT    NOT NULL,
    tags      TEXT[]  NOT NULL DEFAULT '{}',
    UNIQUE (quiz_id, version, position)
);

CREATE TABLE quiz_choices (
    id           BIGSERIAL PRIMARY KEY,
    question_id  BIGINT  NOT NULL REFERENCES quiz_questions (id),
    position     INTEGER NOT NULL,
    text         TEXT    NOT NULL,
    is_correct   BOOLEAN NOT NULL,
    UNIQUE (question_id, position)
);
-- At most one correct choice per question (the service checks "exactly one" before writing).
CREATE UNIQUE INDEX quiz_choices_one_correct ON quiz_choices (question_id) WHERE is_correct;

-- (quiz_id, user_id, attempt_no) is unique: concurrent starts of the same attempt number cannot both succeed, so
-- max_attempts holds without locks.
CREATE TABLE quiz_attempts (
    id              BIGSERIAL PRIMARY KEY,
    quiz_id         BIGINT      NOT NULL REFERENCES quizzes (id),
    user_id         BIGINT      NOT NULL REFERENCES users (id),
    attempt_no      INTEGER     NOT NULL,
    quiz_version    INTEGER     NOT NULL,
    question_order  BIGINT[]    NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    deadline        TIMESTAMPTZ NOT NULL,
    submitted_at    TIMESTAMPTZ,
    score           INTEGER,
    total           INTEGER,
    duration_ms     BIGINT,
    points_awarded  INTEGER,
    UNIQUE (quiz_id, user_id, attempt_no)
);
CREATE INDEX quiz_attempts_board ON quiz_attempts (quiz_id, user_id, score DESC, duration_ms)
    WHERE submitted_at IS NOT NULL;

CREATE TABLE quiz_attempt_answers (
    attempt_id   BIGINT  NOT NULL REFERENCES quiz_attempts (id),
    question_id  BIGINT  NOT NULL REFERENCES quiz_questions (id),
    choice_id    BIGINT  NOT NULL REFERENCES quiz_choices (id),
    correct      BOOLEAN NOT NULL,
    PRIMARY KEY (attempt_id, question_id)
);

-- Interest signals for the feed: one row per tag of each question a user answered (append-only).
CREATE TABLE user_interest_events (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id),
    tag         TEXT        NOT NULL,
    source      TEXT        NOT NULL,
    weight      REAL        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX user_interest_events_user ON user_interest_events (user_id, created_at DESC);
