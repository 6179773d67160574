-- inventory-service tables for SQLite (the in-process sandbox), the same tables as
-- ../mysql/001_schema.sql. Applied at every start, so every statement is idempotent. Split as
-- the MySQL files are: at each semicolon that ends a line, comment lines dropped.

CREATE TABLE IF NOT EXISTS products (
  sku       TEXT    NOT NULL PRIMARY KEY,
  name      TEXT    NOT NULL,
  price     INTEGER NOT NULL CHECK (price >= 0),
  currency  TEXT    NOT NULL,
  available INTEGER NOT NULL CHECK (available >= 0),
  -- Units held by reservations that were not released (reserved or sold), kept by each
  -- reservation and release so a read never sums reservations. Added by the service to a
  -- database created before it (adapters/migrate.go).
  reserved  INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0)
);

CREATE TABLE IF NOT EXISTS reservations (
  transaction_id TEXT    NOT NULL,
  sku            TEXT    NOT NULL,
  quantity       INTEGER NOT NULL CHECK (quantity > 0),
  unit_price     INTEGER NOT NULL,
  status         TEXT    NOT NULL CHECK (status IN ('ACTIVE', 'RELEASED')),
  PRIMARY KEY (transaction_id, sku)
);

CREATE INDEX IF NOT EXISTS reservations_by_sku ON reservations (sku, status);

-- Rows older than the dedup retention (DEDUP_RETENTION) are deleted: by then the event cannot
-- be delivered again.
CREATE TABLE IF NOT EXISTS processed_events (
  event_id     TEXT NOT NULL PRIMARY KEY,
  processed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX IF NOT EXISTS processed_events_by_time ON processed_events (processed_at);

CREATE TABLE IF NOT EXISTS outbox (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  topic       TEXT NOT NULL,
  message_key TEXT NOT NULL,
  event_id    TEXT NOT NULL,
  event_type  TEXT NOT NULL,
  source      TEXT NOT NULL,
  event_time  TEXT NOT NULL,
  payload     TEXT NOT NULL,
  -- W3C trace context of the event that stored the row ('' when none).
  trace_parent TEXT NOT NULL DEFAULT '',
  trace_state  TEXT NOT NULL DEFAULT ''
);
