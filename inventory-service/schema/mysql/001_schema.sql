-- inventory-service tables, MySQL 8.4 and MariaDB 10.11.
-- Run as plain SQL by the mysql image's initdb (in the MYSQL_DATABASE database) and again by the
-- service at start, so every statement is idempotent. The service drops the comment lines and
-- splits the rest at each semicolon that ends a line: no semicolon anywhere else, please.
-- utf8mb4_bin: SKUs and ids compare exactly (no case folding), as they do in SQLite.

CREATE TABLE IF NOT EXISTS products (
  sku       VARCHAR(64)  NOT NULL,
  name      VARCHAR(255) NOT NULL,
  price     BIGINT       NOT NULL CHECK (price >= 0),
  currency  CHAR(3)      NOT NULL,
  available INT          NOT NULL CHECK (available >= 0),
  -- Units held by reservations that were not released (reserved or sold), kept by each
  -- reservation and release so a read never sums reservations. Added by the service to a
  -- database created before it (adapters/migrate.go).
  reserved  INT          NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  PRIMARY KEY (sku)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per SKU of a transaction's reservation. status ACTIVE holds the stock, RELEASED gave
-- it back. Rows are kept after release: they are the second guard against a replayed order.
CREATE TABLE IF NOT EXISTS reservations (
  transaction_id VARCHAR(255) NOT NULL,
  sku            VARCHAR(64)  NOT NULL,
  quantity       INT          NOT NULL CHECK (quantity > 0),
  unit_price     BIGINT       NOT NULL,
  status         VARCHAR(16)  NOT NULL CHECK (status IN ('ACTIVE', 'RELEASED')),
  PRIMARY KEY (transaction_id, sku),
  KEY reservations_by_sku (sku, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The ce_id of every event applied, committed with the event's effect: a redelivery is skipped.
-- Rows older than the dedup retention (DEDUP_RETENTION) are deleted: by then the event cannot
-- be delivered again.
CREATE TABLE IF NOT EXISTS processed_events (
  event_id     VARCHAR(255) NOT NULL,
  processed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (event_id),
  KEY processed_events_by_time (processed_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Events to publish, written in the transaction that caused them. The relay publishes them in
-- id order and deletes them. event_time is RFC 3339 text.
CREATE TABLE IF NOT EXISTS outbox (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  topic       VARCHAR(255) NOT NULL,
  message_key VARCHAR(255) NOT NULL,
  event_id    VARCHAR(255) NOT NULL,
  event_type  VARCHAR(64)  NOT NULL,
  source      VARCHAR(255) NOT NULL,
  event_time  VARCHAR(40)  NOT NULL,
  payload     JSON         NOT NULL,
  -- W3C trace context of the event that stored the row ('' when none).
  trace_parent VARCHAR(64)  NOT NULL DEFAULT '',
  trace_state  VARCHAR(512) NOT NULL DEFAULT '',
  -- The relay that claimed the row ('' when none) and until when: replicas share the outbox
  -- (adapters/sql_outbox_claim.go).
  claim_owner  VARCHAR(64)  NOT NULL DEFAULT '',
  claim_until  DATETIME(6)  NULL,
  PRIMARY KEY (id),
  KEY outbox_claim (claim_owner, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
