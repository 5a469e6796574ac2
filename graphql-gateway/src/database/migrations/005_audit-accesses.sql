-- Up Migration
-- The audit log stored one row per entry (a read of one kind of one patient's data in one request): a
-- doctor's home screen wrote 40 rows, each with three index entries, and that was most of PostgreSQL's work
-- per cached read (docs/performance.md, phase 7). The entries are now stored one row per access (request,
-- patient, rule and grant used, time), with the kinds read in order in `what`; `audit_log` is a view that
-- gives every entry as before, so what the log says and how it is read do not change.
--
-- Entry ids: an access's id is a multiple of 8 apart from the next (its sequence steps by 8) and its kinds
-- take id, id + 1, ... (at most 8), so entry ids stay unique and in the order the entries were stored.
-- The rows stored before keep their ids (one kind each); new ones start above them.

CREATE TABLE audit_access (
  id                   bigint PRIMARY KEY,
  viewer               text NOT NULL,
  patient              text NOT NULL,
  what                 text[] NOT NULL CHECK (cardinality(what) BETWEEN 1 AND 8), -- profile | records | vitals | alerts, in order
  rule                 text NOT NULL,
  grant_scopes         smallint,
  grant_granted_at     timestamptz,
  access_expires_at    timestamptz,
  channel              text NOT NULL,
  request_id           text NOT NULL,
  read_at              timestamptz NOT NULL
);

INSERT INTO audit_access
       (id, viewer, patient, what, rule, grant_scopes, grant_granted_at, access_expires_at, channel, request_id, read_at)
SELECT id, viewer, patient, ARRAY[what], rule, grant_scopes, grant_granted_at, access_expires_at, channel, request_id, read_at
  FROM audit_log;

CREATE SEQUENCE audit_access_id_seq INCREMENT BY 8 MINVALUE 8 OWNED BY audit_access.id;
-- The next id is above every stored entry's.
SELECT setval('audit_access_id_seq', (coalesce((SELECT max(id) FROM audit_access), 0) / 8 + 1) * 8);
ALTER TABLE audit_access ALTER COLUMN id SET DEFAULT nextval('audit_access_id_seq');

DROP TABLE audit_log;

CREATE INDEX audit_access_by_patient ON audit_access (patient, id DESC);
CREATE INDEX audit_access_by_viewer ON audit_access (viewer, id DESC);

CREATE VIEW audit_log AS
SELECT a.id + k.n - 1 AS id, a.viewer, a.patient, k.what, a.rule, a.grant_scopes, a.grant_granted_at,
       a.access_expires_at, a.channel, a.request_id, a.read_at
  FROM audit_access a
 CROSS JOIN LATERAL unnest(a.what) WITH ORDINALITY AS k(what, n);

-- Down Migration
CREATE TABLE audit_log_entries AS SELECT * FROM audit_log;
DROP VIEW audit_log;
DROP TABLE audit_access;
ALTER TABLE audit_log_entries RENAME TO audit_log;
CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
SELECT setval('audit_log_id_seq', coalesce((SELECT max(id) FROM audit_log), 0) + 1, false);
ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq'), ADD PRIMARY KEY (id),
  ALTER COLUMN viewer SET NOT NULL, ALTER COLUMN patient SET NOT NULL, ALTER COLUMN what SET NOT NULL,
  ALTER COLUMN rule SET NOT NULL, ALTER COLUMN channel SET NOT NULL, ALTER COLUMN request_id SET NOT NULL,
  ALTER COLUMN read_at SET NOT NULL;
CREATE INDEX audit_log_by_patient ON audit_log (patient, id DESC);
CREATE INDEX audit_log_by_viewer ON audit_log (viewer, id DESC);
