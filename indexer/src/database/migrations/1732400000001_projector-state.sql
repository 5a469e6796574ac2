-- Up Migration
-- Projector bookkeeping. It lives in the same generation schema as the tables it describes, so that a batch's
-- rows, the undo images of its events, its dead letters and its consumed offsets commit in ONE transaction.

-- The next Kafka offset to consume per (topic, partition): on start and on rebalance the consumer seeks here,
-- whatever offsets Kafka holds for the group.
CREATE TABLE kafka_offsets (
  topic       text NOT NULL,
  partition   integer NOT NULL,
  next_offset bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition)
);

-- Before-images of the rows each applied event changed, in the order it changed them (before NULL: the row
-- did not exist). A retraction restores them in reverse order and deletes them.
CREATE TABLE event_undo (
  event_id   text NOT NULL,
  seq        integer NOT NULL,
  table_name text NOT NULL,
  key        jsonb NOT NULL,
  before     jsonb,
  PRIMARY KEY (event_id, seq)
);

-- Messages that are not a valid envelope (or do not fit a projection), kept with the reason; the consumer goes on.
CREATE TABLE dead_letters (
  topic     text NOT NULL,
  partition integer NOT NULL,
  "offset"  bigint NOT NULL,
  key       bytea,
  value     bytea,
  reason    text NOT NULL,
  at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition, "offset")
);

-- Down Migration
DROP TABLE dead_letters, event_undo, kafka_offsets;
