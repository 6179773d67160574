-- Outbox records the broker refused for good (too large, not allowed), set aside by the relay
-- with the reason so that the records after them are published; they wait for an operator.
CREATE TABLE IF NOT EXISTS outbox_parked (
  id          BIGINT       NOT NULL,
  topic       VARCHAR(255) NOT NULL,
  message_key VARCHAR(255) NOT NULL,
  event_id    VARCHAR(255) NOT NULL,
  event_type  VARCHAR(64)  NOT NULL,
  source      VARCHAR(255) NOT NULL,
  event_time  VARCHAR(40)  NOT NULL,
  payload     JSON         NOT NULL,
  reason      TEXT         NOT NULL,
  parked_at   TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
