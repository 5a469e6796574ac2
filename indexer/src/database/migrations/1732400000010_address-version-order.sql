-- Up Migration
-- The gateway reads the stamps of migration 0009 incrementally: each read asks only for the addresses stamped
-- after the version it read last (graphql-gateway/src/gateway/read-freshness.ts), instead of sending every
-- address it is asked about. This index answers that range.
CREATE INDEX address_version_by_bump ON address_version (bumped_at);

-- Down Migration
DROP INDEX address_version_by_bump;
