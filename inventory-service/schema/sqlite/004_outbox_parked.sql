-- Parked outbox records, as in ../mysql/004_outbox_parked.sql.
CREATE TABLE IF NOT EXISTS outbox_parked (
  id          INTEGER NOT NULL PRIMARY KEY,
  topic       TEXT    NOT NULL,
  message_key TEXT    NOT NULL,
  event_id    TEXT    NOT NULL,
  event_type  TEXT    NOT NULL,
  source      TEXT    NOT NULL,
  event_time  TEXT    NOT NULL,
  payload     TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  parked_at   TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP
);
