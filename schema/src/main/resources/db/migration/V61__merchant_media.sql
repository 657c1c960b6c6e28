-- Item covers that merchants upload (POST /admin/media) live beside the avatars in media, owned by the merchant: an
-- item may use as its cover only an uploaded image of its own merchant. An image has at most one owner.
ALTER TABLE media ADD COLUMN owner_merchant_id BIGINT REFERENCES merchants (id);
ALTER TABLE media ADD CONSTRAINT media_one_owner CHECK (owner_user_id IS NULL OR owner_merchant_id IS NULL);
CREATE INDEX media_merchant ON media (owner_merchant_id) WHERE owner_merchant_id IS NOT NULL;
