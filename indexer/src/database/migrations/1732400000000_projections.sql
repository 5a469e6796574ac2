-- Up Migration
-- The read model that the gateway queries. Every table lives in the schema of one projection generation
-- (carechain_p<N>), chosen through search_path, so that a rebuild can fill a fresh schema while the old one
-- stays readable. Addresses and hashes are lower-case 0x hex text; times are block times (timestamptz).
-- Only what the chain holds: hashes, ids, codes and encrypted pointers, never personal data.

CREATE TABLE patients (
  address          text PRIMARY KEY,
  profile_hash     text NOT NULL,
  encryption_key   text NOT NULL,
  registered_block bigint NOT NULL,
  registered_at    timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);

CREATE TABLE doctors (
  address          text PRIMARY KEY,
  profile_hash     text NOT NULL,
  encryption_key   text NOT NULL,
  license_hash     text NOT NULL,
  verified         boolean NOT NULL DEFAULT false,
  verified_by      text,
  verified_at      timestamptz,
  registered_block bigint NOT NULL,
  registered_at    timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);

CREATE TABLE organizations (
  address          text PRIMARY KEY,
  kind             smallint NOT NULL,           -- 1 hospital, 2 insurer, 3 laboratory, 4 pharmacy, 5 research
  profile_hash     text NOT NULL,
  encryption_key   text NOT NULL,
  is_registrar     boolean NOT NULL DEFAULT false,
  registered_block bigint NOT NULL,
  registered_at    timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);

-- Current state of each patient -> grantee grant. A grant is active when revoked_at IS NULL and
-- (expires_at IS NULL OR expires_at > now()): expiry is judged at query time, no event needed.
CREATE TABLE grants (
  patient      text NOT NULL,
  grantee      text NOT NULL,
  scopes       smallint NOT NULL,               -- bit mask: 1 read records, 2 write records, 4 read vitals
  expires_at   timestamptz,
  granted_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  PRIMARY KEY (patient, grantee)
);
CREATE INDEX grants_by_grantee ON grants (grantee, patient) WHERE revoked_at IS NULL;

-- Full history of grants and emergency access, one row per event.
CREATE TABLE grant_history (
  event_id     text PRIMARY KEY,
  patient      text NOT NULL,
  grantee      text NOT NULL,
  action       text NOT NULL,                   -- granted | changed | revoked | emergency_opened | emergency_closed
  scopes       smallint,
  expires_at   timestamptz,
  reason_hash  text,
  block_number bigint NOT NULL,
  block_time   timestamptz NOT NULL,
  log_index    integer NOT NULL
);
CREATE INDEX grant_history_by_patient ON grant_history (patient, block_number DESC, log_index DESC);

-- Open (or past) emergency ("break-glass") read access; active when closed_at IS NULL AND expires_at > now().
CREATE TABLE emergency_access (
  patient      text NOT NULL,
  doctor       text NOT NULL,
  expires_at   timestamptz NOT NULL,
  reason_hash  text NOT NULL,
  opened_at    timestamptz NOT NULL,
  closed_at    timestamptz,
  PRIMARY KEY (patient, doctor)
);
CREATE INDEX emergency_access_by_doctor ON emergency_access (doctor, patient);

-- Every version of every record; the latest version of a chain has superseded_by IS NULL.
CREATE TABLE records (
  record_id          text PRIMARY KEY,
  patient            text NOT NULL,
  author             text NOT NULL,
  submitter          text NOT NULL,
  record_type        smallint NOT NULL,
  content_hash       text NOT NULL,
  storage_pointer    text NOT NULL,             -- encrypted pointer, hex
  previous_record_id text,                      -- NULL for an original
  root_record_id     text NOT NULL,
  version            integer NOT NULL,
  superseded_by      text,
  block_number       bigint NOT NULL,
  block_time         timestamptz NOT NULL,
  log_index          integer NOT NULL,
  event_id           text NOT NULL UNIQUE
);
CREATE INDEX records_by_patient ON records (patient, block_number DESC, log_index DESC);
CREATE INDEX records_by_root ON records (root_record_id, version);
CREATE INDEX records_by_author ON records (author, block_number DESC);

CREATE TABLE devices (
  device        text PRIMARY KEY,
  patient       text NOT NULL,
  authorized_at timestamptz NOT NULL,
  revoked_at    timestamptz
);
CREATE INDEX devices_by_patient ON devices (patient);

CREATE TABLE vitals_ranges (
  patient       text PRIMARY KEY,
  set_by        text NOT NULL,
  systolic_min  smallint NOT NULL,
  systolic_max  smallint NOT NULL,
  diastolic_min smallint NOT NULL,
  diastolic_max smallint NOT NULL,
  updated_at    timestamptz NOT NULL
);

CREATE TABLE alert_recipients (
  patient    text PRIMARY KEY,
  recipients text[] NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE vital_readings (
  event_id     text PRIMARY KEY,
  patient      text NOT NULL,
  device       text NOT NULL,
  measured_at  timestamptz NOT NULL,
  systolic     smallint NOT NULL,
  diastolic    smallint NOT NULL,
  block_number bigint NOT NULL,
  block_time   timestamptz NOT NULL
);
CREATE INDEX vital_readings_by_patient ON vital_readings (patient, measured_at DESC);

CREATE TABLE alerts (
  event_id     text PRIMARY KEY,
  patient      text NOT NULL,
  device       text NOT NULL,
  measured_at  timestamptz NOT NULL,
  systolic     smallint NOT NULL,
  diastolic    smallint NOT NULL,
  recipients   text[] NOT NULL,
  block_number bigint NOT NULL,
  block_time   timestamptz NOT NULL
);
CREATE INDEX alerts_by_patient ON alerts (patient, measured_at DESC);
CREATE INDEX alerts_by_recipient ON alerts USING gin (recipients);

-- The event log as applied, for audit and debugging; retracted events stay, marked.
CREATE TABLE events (
  event_id     text PRIMARY KEY,
  type         text NOT NULL,
  chain_id     integer NOT NULL,
  block_number bigint NOT NULL,
  block_hash   text NOT NULL,
  block_time   timestamptz NOT NULL,
  tx_hash      text NOT NULL,
  log_index    integer NOT NULL,
  patient      text,
  payload      jsonb NOT NULL,
  retracted    boolean NOT NULL DEFAULT false,
  applied_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_by_patient ON events (patient, block_number DESC, log_index DESC);
CREATE INDEX events_by_block ON events (block_number);

-- Down Migration
DROP TABLE events, alerts, vital_readings, alert_recipients, vitals_ranges, devices, records,
  emergency_access, grant_history, grants, organizations, doctors, patients;
