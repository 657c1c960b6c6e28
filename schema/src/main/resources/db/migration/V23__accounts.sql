-- Merchant accounts made by an owner or an operator get a one-time password that must be changed at first login; a
-- disabled account cannot log in and its tokens are revoked at once.
ALTER TABLE merchant_accounts
    ADD COLUMN must_change_password BOOLEAN     NOT NULL DEFAULT false,
    ADD COLUMN disabled             BOOLEAN     NOT NULL DEFAULT false,
    ADD COLUMN password_changed_at  TIMESTAMPTZ;
CREATE INDEX merchant_accounts_merchant ON merchant_accounts (merchant_id, id DESC);
