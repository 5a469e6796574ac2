-- Up Migration
-- The gateway's own tables, in the schema named by GATEWAY_SCHEMA (default `gateway`): sign-in nonces shared
-- by every gateway instance, and the audit log of reads of patients' data by anyone but the patient.

CREATE TABLE IF NOT EXISTS siwe_nonces (
  nonce      text PRIMARY KEY,
  issued_at  timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS siwe_nonces_by_expiry ON siwe_nonces (expires_at);

CREATE TABLE IF NOT EXISTS audit_log (
  id                   bigserial PRIMARY KEY,
  viewer               text NOT NULL,
  patient              text NOT NULL,
  what                 text NOT NULL,         -- profile | records | vitals | alerts
  rule                 text NOT NULL,         -- grant | emergency | alert-recipient
  grant_scopes         smallint,              -- the grant used (rule = grant): its scopes and start
  grant_granted_at     timestamptz,
  access_expires_at    timestamptz,           -- the grant's or the emergency access's expiry
  channel              text NOT NULL,         -- query | subscription
  request_id           text NOT NULL,
  read_at              timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_by_patient ON audit_log (patient, id DESC);
CREATE INDEX IF NOT EXISTS audit_log_by_viewer ON audit_log (viewer, id DESC);

-- Down Migration
DROP TABLE IF EXISTS audit_log, siwe_nonces;
