-- Tombstones of expired orders, as in ../mysql/003_expiry.sql.
CREATE TABLE IF NOT EXISTS expired_transactions (
  transaction_id TEXT NOT NULL PRIMARY KEY,
  expired_at     TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
