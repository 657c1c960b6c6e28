-- A user has at most one payable order per item at a time: a second POST /orders for the same item (a double tap,
-- a retry without an Idempotency-Key, another key) answers the pending order instead of making a second one that
-- could be paid too. Orders put on review are left out (a person settles them).
-- Older duplicates, if any, were never paid (they are pending): close them, keeping the newest.
UPDATE orders o SET status = 'closed', closed_at = now(), updated_at = now()
WHERE o.status = 'pending' AND o.review_reason IS NULL
  AND EXISTS (SELECT 1 FROM orders n WHERE n.user_id = o.user_id AND n.item_id = o.item_id AND n.status = 'pending'
                AND n.review_reason IS NULL AND n.id > o.id);
CREATE UNIQUE INDEX orders_one_pending_per_user_item ON orders (user_id, item_id)
  WHERE status = 'pending' AND review_reason IS NULL;
