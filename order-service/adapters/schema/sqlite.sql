-- order-service's SQLite schema (the in-process sandbox). Applied on every open: idempotent.

CREATE TABLE IF NOT EXISTS orders (
    transaction_id TEXT PRIMARY KEY,
    customer_id    TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    items          TEXT NOT NULL, -- JSON [{"sku":..,"quantity":..}]
    status         TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    amount         INTEGER,       -- minor units; NULL until known
    currency       TEXT,          -- NULL until known
    created_at     TEXT NOT NULL, -- RFC 3339
    updated_at     TEXT NOT NULL,
    history        TEXT NOT NULL, -- JSON [{"eventId":..,"type":..,"at":..,"applied":..}]
    version        INTEGER NOT NULL
);

-- Keys older than DEDUP_RETENTION are deleted (by created_at, RFC 3339 UTC text).
CREATE TABLE IF NOT EXISTS idempotency_keys (
    idempotency_key TEXT PRIMARY KEY,
    request_hash    TEXT NOT NULL,
    transaction_id  TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS idempotency_keys_by_time ON idempotency_keys (created_at);

-- Rows are published oldest first (by seq) and deleted once the broker acknowledged them.
CREATE TABLE IF NOT EXISTS outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    topic      TEXT NOT NULL,
    event_key  TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    event_type TEXT NOT NULL,
    source     TEXT NOT NULL,
    event_time TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- W3C trace context of the request that stored the record ('' when none).
    trace_parent TEXT NOT NULL DEFAULT '',
    trace_state  TEXT NOT NULL DEFAULT ''
);

-- The orders still in flight, by when they were created, for the deadline sweeper: a partial
-- index holds only PENDING and RESERVED orders, so finding the due ones reads only those.
-- julianday() because RFC 3339 text with trimmed fractions does not sort as time does.
CREATE INDEX IF NOT EXISTS orders_in_flight ON orders (julianday(created_at))
    WHERE status IN ('PENDING', 'RESERVED');

-- Outbox records the broker refused for good (too large, not allowed), set aside by the relay
-- with the reason so that the records after them are published; they wait for an operator.
CREATE TABLE IF NOT EXISTS outbox_parked (
    id         TEXT PRIMARY KEY,
    topic      TEXT NOT NULL,
    event_key  TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    event_type TEXT NOT NULL,
    source     TEXT NOT NULL,
    event_time TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    trace_parent TEXT NOT NULL DEFAULT '',
    trace_state  TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL,
    parked_at  TEXT NOT NULL
);

-- ListOrders: a customer's orders newest first. The expression is created_at with its fraction
-- padded to nine digits (sqliteCreatedKey in sqlite_list.go; keep the two identical).
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (customer_id,
    (substr(created_at, 1, 19) || CASE WHEN substr(created_at, 20, 1) = '.' THEN substr(rtrim(substr(created_at, 20), 'Z') || '000000000', 1, 10) ELSE '.000000000' END),
    transaction_id);
