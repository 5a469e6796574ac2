-- Up Migration
-- Facts that time makes, not a transaction (the projector derives them from ingest's chain clock, see
-- indexer/README.md "Chain clock"): a grant's expiry and an alert's finality. Each is announced once in the
-- event feed, and the announcement is remembered on the row it is about, so that a retraction of the clock
-- block that made it (its undo image) takes it back and it is made again on the new chain.

-- The GRANT_EXPIRED that announced the current expiry (NULL: not announced; a new grant or a change of it
-- clears it).
ALTER TABLE grants ADD COLUMN expired_event_id text;
CREATE INDEX grants_expiring ON grants (expires_at)
  WHERE revoked_at IS NULL AND expires_at IS NOT NULL AND expired_event_id IS NULL;

-- final: at least FINALITY_DEPTH blocks deep, when raised or since; final_event_id: the ALERT_FINAL that said
-- so (NULL when it was final when raised).
ALTER TABLE alerts ADD COLUMN final boolean NOT NULL DEFAULT false, ADD COLUMN final_event_id text;
CREATE INDEX alerts_provisional ON alerts (block_number) WHERE NOT final;

-- A retracted clock block takes back what it announced: the feed's entries looked up by id.
CREATE INDEX event_feed_by_event ON event_feed (event_id);

-- Down Migration
DROP INDEX event_feed_by_event, alerts_provisional, grants_expiring;
ALTER TABLE alerts DROP COLUMN final_event_id, DROP COLUMN final;
ALTER TABLE grants DROP COLUMN expired_event_id;
