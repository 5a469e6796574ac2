-- Up Migration
-- The events as the projector COMMITTED them, in commit order: what live deliveries (subscriptions, and any
-- future channel) read, so that a delivery is decided with the projections as of that event's position in
-- the log, never ahead of them (a revocation before a record is applied before the record is delivered).
-- `seq` is assigned under a transaction-level advisory lock held until COMMIT, so seq order is commit order
-- and a reader that has seen seq N has seen every event committed before it. A retraction is a row of its
-- own (retracted = true), after the event it undoes.
CREATE TABLE event_feed (
  seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id  text NOT NULL,
  type      text NOT NULL,
  patient   text,
  retracted boolean NOT NULL,
  envelope  jsonb NOT NULL,
  at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_feed_by_patient ON event_feed (patient, seq);

-- Down Migration
DROP TABLE event_feed;
