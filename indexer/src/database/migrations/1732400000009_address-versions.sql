-- Up Migration
-- Versions per address, so that a write about one patient no longer ends every kept answer (migration 0006
-- bumps one version for all). Every statement that changes a table readers see bumps `read_version.version`
-- as before and stamps each address its changed rows hold, before or after the change, with that new
-- version (`address_version.bumped_at`). The gateway keeps an answer of a query whose reach is known (what
-- its viewer, its variables and the addresses in the answer stand for) while none of those addresses was
-- stamped after the version it read before executing. The UPDATE of read_version takes its row lock, so
-- no reader can have read a version at or above the stamp before this transaction commits.
-- Addresses are found in every text and text[] column of the row (the values shaped like an address), not
-- in a list of columns per table that a new column could silently miss. JSON columns (the envelopes of
-- `events` and `event_feed`) are not searched: the operations kept by address read neither.
-- A TRUNCATE has no rows to look at: it bumps `truncations`, which ends every kept answer.
CREATE TABLE address_version (
  address   text PRIMARY KEY,
  bumped_at bigint NOT NULL
);
ALTER TABLE read_version ADD COLUMN truncations bigint NOT NULL DEFAULT 0;

CREATE FUNCTION bump_read_versions() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
DECLARE
  stamp bigint;
  addresses text;
  source text;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    UPDATE read_version SET version = version + 1, truncations = truncations + 1;
    RETURN NULL;
  END IF;
  UPDATE read_version SET version = version + 1 RETURNING version INTO stamp;
  -- Every text and text[] column of the table as it is now (a new column is covered without a change
  -- here). Values that are not addresses (ids, hashes: other lengths) are left out by a length and prefix
  -- test; a regular expression here made the trigger five times dearer.
  SELECT string_agg(CASE WHEN a.atttypid = 'text[]'::regtype THEN format('SELECT unnest(%I) FROM changed', a.attname)
                         ELSE format('SELECT %I FROM changed', a.attname) END, ' UNION ')
    INTO addresses
    FROM pg_attribute a
   WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped
     AND a.atttypid IN ('text'::regtype, 'text[]'::regtype);
  IF addresses IS NULL THEN
    RETURN NULL;
  END IF;
  source := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT * FROM new_rows'
    WHEN 'DELETE' THEN 'SELECT * FROM old_rows'
    ELSE 'SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows' END;
  EXECUTE format(
    'WITH changed AS (%s)
     INSERT INTO address_version (address, bumped_at)
       SELECT a, $1 FROM (%s) AS u(a) WHERE length(a) = 42 AND left(a, 2) = ''0x''
     ON CONFLICT (address) DO UPDATE SET bumped_at = EXCLUDED.bumped_at', source, addresses)
    USING stamp;
  RETURN NULL;
END $$;

DROP TRIGGER patients_read_version ON patients;
CREATE TRIGGER patients_read_version AFTER INSERT ON patients REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER patients_read_version_update AFTER UPDATE ON patients REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER patients_read_version_delete AFTER DELETE ON patients REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER patients_read_version_truncate AFTER TRUNCATE ON patients
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER doctors_read_version ON doctors;
CREATE TRIGGER doctors_read_version AFTER INSERT ON doctors REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER doctors_read_version_update AFTER UPDATE ON doctors REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER doctors_read_version_delete AFTER DELETE ON doctors REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER doctors_read_version_truncate AFTER TRUNCATE ON doctors
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER organizations_read_version ON organizations;
CREATE TRIGGER organizations_read_version AFTER INSERT ON organizations REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER organizations_read_version_update AFTER UPDATE ON organizations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER organizations_read_version_delete AFTER DELETE ON organizations REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER organizations_read_version_truncate AFTER TRUNCATE ON organizations
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER grants_read_version ON grants;
CREATE TRIGGER grants_read_version AFTER INSERT ON grants REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER grants_read_version_update AFTER UPDATE ON grants REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER grants_read_version_delete AFTER DELETE ON grants REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER grants_read_version_truncate AFTER TRUNCATE ON grants
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER grant_history_read_version ON grant_history;
CREATE TRIGGER grant_history_read_version AFTER INSERT ON grant_history REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER grant_history_read_version_update AFTER UPDATE ON grant_history REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER grant_history_read_version_delete AFTER DELETE ON grant_history REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER grant_history_read_version_truncate AFTER TRUNCATE ON grant_history
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER emergency_access_read_version ON emergency_access;
CREATE TRIGGER emergency_access_read_version AFTER INSERT ON emergency_access REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER emergency_access_read_version_update AFTER UPDATE ON emergency_access REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER emergency_access_read_version_delete AFTER DELETE ON emergency_access REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER emergency_access_read_version_truncate AFTER TRUNCATE ON emergency_access
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER records_read_version ON records;
CREATE TRIGGER records_read_version AFTER INSERT ON records REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER records_read_version_update AFTER UPDATE ON records REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER records_read_version_delete AFTER DELETE ON records REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER records_read_version_truncate AFTER TRUNCATE ON records
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER devices_read_version ON devices;
CREATE TRIGGER devices_read_version AFTER INSERT ON devices REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER devices_read_version_update AFTER UPDATE ON devices REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER devices_read_version_delete AFTER DELETE ON devices REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER devices_read_version_truncate AFTER TRUNCATE ON devices
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER vitals_ranges_read_version ON vitals_ranges;
CREATE TRIGGER vitals_ranges_read_version AFTER INSERT ON vitals_ranges REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER vitals_ranges_read_version_update AFTER UPDATE ON vitals_ranges REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER vitals_ranges_read_version_delete AFTER DELETE ON vitals_ranges REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER vitals_ranges_read_version_truncate AFTER TRUNCATE ON vitals_ranges
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER alert_recipients_read_version ON alert_recipients;
CREATE TRIGGER alert_recipients_read_version AFTER INSERT ON alert_recipients REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER alert_recipients_read_version_update AFTER UPDATE ON alert_recipients REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER alert_recipients_read_version_delete AFTER DELETE ON alert_recipients REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER alert_recipients_read_version_truncate AFTER TRUNCATE ON alert_recipients
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER vital_readings_read_version ON vital_readings;
CREATE TRIGGER vital_readings_read_version AFTER INSERT ON vital_readings REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER vital_readings_read_version_update AFTER UPDATE ON vital_readings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER vital_readings_read_version_delete AFTER DELETE ON vital_readings REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER vital_readings_read_version_truncate AFTER TRUNCATE ON vital_readings
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER alerts_read_version ON alerts;
CREATE TRIGGER alerts_read_version AFTER INSERT ON alerts REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER alerts_read_version_update AFTER UPDATE ON alerts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER alerts_read_version_delete AFTER DELETE ON alerts REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER alerts_read_version_truncate AFTER TRUNCATE ON alerts
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER events_read_version ON events;
CREATE TRIGGER events_read_version AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER events_read_version_update AFTER UPDATE ON events REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER events_read_version_delete AFTER DELETE ON events REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER events_read_version_truncate AFTER TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
DROP TRIGGER event_feed_read_version ON event_feed;
CREATE TRIGGER event_feed_read_version AFTER INSERT ON event_feed REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER event_feed_read_version_update AFTER UPDATE ON event_feed REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER event_feed_read_version_delete AFTER DELETE ON event_feed REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();
CREATE TRIGGER event_feed_read_version_truncate AFTER TRUNCATE ON event_feed
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_versions();

-- Down Migration
DROP TRIGGER patients_read_version_truncate ON patients;
DROP TRIGGER patients_read_version_delete ON patients;
DROP TRIGGER patients_read_version_update ON patients;
DROP TRIGGER patients_read_version ON patients;
CREATE TRIGGER patients_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON patients
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER doctors_read_version_truncate ON doctors;
DROP TRIGGER doctors_read_version_delete ON doctors;
DROP TRIGGER doctors_read_version_update ON doctors;
DROP TRIGGER doctors_read_version ON doctors;
CREATE TRIGGER doctors_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON doctors
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER organizations_read_version_truncate ON organizations;
DROP TRIGGER organizations_read_version_delete ON organizations;
DROP TRIGGER organizations_read_version_update ON organizations;
DROP TRIGGER organizations_read_version ON organizations;
CREATE TRIGGER organizations_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organizations
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER grants_read_version_truncate ON grants;
DROP TRIGGER grants_read_version_delete ON grants;
DROP TRIGGER grants_read_version_update ON grants;
DROP TRIGGER grants_read_version ON grants;
CREATE TRIGGER grants_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER grant_history_read_version_truncate ON grant_history;
DROP TRIGGER grant_history_read_version_delete ON grant_history;
DROP TRIGGER grant_history_read_version_update ON grant_history;
DROP TRIGGER grant_history_read_version ON grant_history;
CREATE TRIGGER grant_history_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grant_history
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER emergency_access_read_version_truncate ON emergency_access;
DROP TRIGGER emergency_access_read_version_delete ON emergency_access;
DROP TRIGGER emergency_access_read_version_update ON emergency_access;
DROP TRIGGER emergency_access_read_version ON emergency_access;
CREATE TRIGGER emergency_access_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON emergency_access
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER records_read_version_truncate ON records;
DROP TRIGGER records_read_version_delete ON records;
DROP TRIGGER records_read_version_update ON records;
DROP TRIGGER records_read_version ON records;
CREATE TRIGGER records_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON records
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER devices_read_version_truncate ON devices;
DROP TRIGGER devices_read_version_delete ON devices;
DROP TRIGGER devices_read_version_update ON devices;
DROP TRIGGER devices_read_version ON devices;
CREATE TRIGGER devices_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON devices
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER vitals_ranges_read_version_truncate ON vitals_ranges;
DROP TRIGGER vitals_ranges_read_version_delete ON vitals_ranges;
DROP TRIGGER vitals_ranges_read_version_update ON vitals_ranges;
DROP TRIGGER vitals_ranges_read_version ON vitals_ranges;
CREATE TRIGGER vitals_ranges_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON vitals_ranges
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER alert_recipients_read_version_truncate ON alert_recipients;
DROP TRIGGER alert_recipients_read_version_delete ON alert_recipients;
DROP TRIGGER alert_recipients_read_version_update ON alert_recipients;
DROP TRIGGER alert_recipients_read_version ON alert_recipients;
CREATE TRIGGER alert_recipients_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON alert_recipients
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER vital_readings_read_version_truncate ON vital_readings;
DROP TRIGGER vital_readings_read_version_delete ON vital_readings;
DROP TRIGGER vital_readings_read_version_update ON vital_readings;
DROP TRIGGER vital_readings_read_version ON vital_readings;
CREATE TRIGGER vital_readings_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON vital_readings
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER alerts_read_version_truncate ON alerts;
DROP TRIGGER alerts_read_version_delete ON alerts;
DROP TRIGGER alerts_read_version_update ON alerts;
DROP TRIGGER alerts_read_version ON alerts;
CREATE TRIGGER alerts_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON alerts
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER events_read_version_truncate ON events;
DROP TRIGGER events_read_version_delete ON events;
DROP TRIGGER events_read_version_update ON events;
DROP TRIGGER events_read_version ON events;
CREATE TRIGGER events_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP TRIGGER event_feed_read_version_truncate ON event_feed;
DROP TRIGGER event_feed_read_version_delete ON event_feed;
DROP TRIGGER event_feed_read_version_update ON event_feed;
DROP TRIGGER event_feed_read_version ON event_feed;
CREATE TRIGGER event_feed_read_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON event_feed
  FOR EACH STATEMENT EXECUTE FUNCTION bump_read_version();
DROP FUNCTION bump_read_versions();
ALTER TABLE read_version DROP COLUMN truncations;
DROP TABLE address_version;
