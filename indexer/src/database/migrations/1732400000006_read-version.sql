-- Up Migration
-- The version of what readers see. Every statement that changes a table readers see (the projections, the
-- events log, the event feed) bumps it in the same transaction as the change: statement triggers, so no
-- writer can forget it, whoever it is. The gateway's answer cache keys every answer by (token, version)
-- and the next expiry, so an answer is never served after a revocation, a new write or a retraction has
-- been committed. `token` tells generations apart: a rebuilt generation's versions start again from 0.
CREATE TABLE read_version (
  token   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  version bigint NOT NULL DEFAULT 0
);
INSERT INTO read_version DEFAULT VALUES;

-- `search_path FROM CURRENT`: the generation schema this migration runs in, whatever the writer's path.
CREATE FUNCTION bump_read_version() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE read_version SET version = version + 1;
  RETURN NULL;
END $$;

CREATE TRIGGER patients_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON patients
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER doctors_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON doctors
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER organizations_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organizations
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER grants_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER grant_history_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grant_history
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER emergency_access_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON emergency_access
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER records_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON records
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER devices_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON devices
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER vitals_ranges_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON vitals_ranges
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER alert_recipients_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON alert_recipients
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER vital_readings_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON vital_readings
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER alerts_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON alerts
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER events_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
CREATE TRIGGER event_feed_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON event_feed
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();

-- Access ends without an event when a grant or an emergency access expires: the cache asks for the next
-- expiry with every request, so these keep that question an index probe.
CREATE INDEX grants_by_expiry ON grants (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX emergency_access_by_expiry ON emergency_access (expires_at);

-- Down Migration
DROP INDEX emergency_access_by_expiry;
DROP INDEX grants_by_expiry;
DROP TRIGGER event_feed_read_version ON event_feed;
DROP TRIGGER events_read_version ON events;
DROP TRIGGER alerts_read_version ON alerts;
DROP TRIGGER vital_readings_read_version ON vital_readings;
DROP TRIGGER alert_recipients_read_version ON alert_recipients;
DROP TRIGGER vitals_ranges_read_version ON vitals_ranges;
DROP TRIGGER devices_read_version ON devices;
DROP TRIGGER records_read_version ON records;
DROP TRIGGER emergency_access_read_version ON emergency_access;
DROP TRIGGER grant_history_read_version ON grant_history;
DROP TRIGGER grants_read_version ON grants;
DROP TRIGGER organizations_read_version ON organizations;
DROP TRIGGER doctors_read_version ON doctors;
DROP TRIGGER patients_read_version ON patients;
DROP FUNCTION bump_read_version();
DROP TABLE read_version;
