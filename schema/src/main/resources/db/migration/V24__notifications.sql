-- WeChat subscribe messages after a payment and a refund. A user accepts a template in the mini-program
-- (wx.requestSubscribeMessage): each acceptance lets us send one message of it (WeChat's one-time subscriptions), kept
-- in subscribe_consents. The relay (an outbox consumer) turns an order.paid / order.refunded row into a notification
-- in the transaction that moves its position, using up one consent; a sender then delivers due notifications, one
-- server at a time per row (a lease), retried with back-off. Payments never wait for any of it.
CREATE TABLE subscribe_consents (
    id           BIGSERIAL   PRIMARY KEY,
    user_id      BIGINT      NOT NULL REFERENCES users (id),
    template_id  TEXT        NOT NULL,
    granted_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    used_at      TIMESTAMPTZ
);
CREATE INDEX subscribe_consents_open ON subscribe_consents (user_id, template_id, id) WHERE used_at IS NULL;

CREATE TABLE notifications (
    id               BIGSERIAL   PRIMARY KEY,
    outbox_id        BIGINT      NOT NULL,
    kind             TEXT        NOT NULL CHECK (kind IN ('payment', 'refund')),
    user_id          BIGINT      NOT NULL REFERENCES users (id),
    template_id      TEXT        NOT NULL,
    page             TEXT,
    data             JSONB       NOT NULL,
    status           TEXT        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'refused')),
    attempts         INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_until      TIMESTAMPTZ,
    last_error       TEXT,
    sent_at          TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (outbox_id, kind)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX notifications_user ON notifications (user_id);
