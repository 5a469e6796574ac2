-- Up Migration
-- Time-based state for the gateway: expiry needs no event, so "active" is judged against now() at query time.
CREATE VIEW active_grants AS
  SELECT * FROM grants
  WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now());

CREATE VIEW open_emergency_access AS
  SELECT * FROM emergency_access
  WHERE closed_at IS NULL AND expires_at > now();

-- A patient's current (latest-version) records, newest first.
CREATE INDEX records_latest_by_patient ON records (patient, block_number DESC, log_index DESC)
  WHERE superseded_by IS NULL;
-- A grantee's own grant history (audit of what was shared with a doctor).
CREATE INDEX grant_history_by_grantee ON grant_history (grantee, block_number DESC, log_index DESC);
-- Open emergency access of a doctor.
CREATE INDEX emergency_access_open_by_doctor ON emergency_access (doctor, patient) WHERE closed_at IS NULL;

-- Down Migration
DROP INDEX emergency_access_open_by_doctor, grant_history_by_grantee, records_latest_by_patient;
DROP VIEW open_emergency_access, active_grants;
