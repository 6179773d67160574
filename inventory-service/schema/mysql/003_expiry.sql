-- Tombstones of expired orders: ORDER_EXPIRED records its transaction here, in the transaction
-- that releases what the order still held, so an ORDER_CREATE of that order that arrives later
-- (replayed from a dead-letter topic, say) reserves nothing.
CREATE TABLE IF NOT EXISTS expired_transactions (
  transaction_id VARCHAR(255) NOT NULL,
  expired_at     TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (transaction_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
