-- Up Migration
-- A request the answer cache serves reads what that answer's execution read. Its entries were stored as rows
-- of their own: a doctor's home screen served again wrote 20 rows with three index entries each, nearly all
-- of PostgreSQL's work per cached read (docs/performance.md, phase 9). Now the reads of an answer are stored
-- once, as a read set named by the SHA-256 of its canonical form (src/audit/read-set.ts): who read, on which
-- channel, and its accesses (patient, kinds in order, rule and grant used). Each request served such an answer
-- is one row of `audit_served`: the set, the request and the time. `audit_log` gives every entry as before,
-- from both, so what the log says and how it is read do not change.
--
-- Entry ids: rows of audit_access and audit_served take their ids from one sequence, which now steps by
-- 4096. An access's kinds take id .. id + 7 as before; a served request's entries take id + first_entry of
-- each access + its kind's place (a set holds at most 4096 entries), so entry ids stay unique and in the
-- order the rows were stored.

ALTER SEQUENCE audit_access_id_seq INCREMENT BY 4096;
SELECT setval('audit_access_id_seq', (coalesce((SELECT max(id) FROM audit_access), 0) / 4096 + 1) * 4096);

CREATE TABLE audit_read_set (
  digest  bytea PRIMARY KEY CHECK (length(digest) = 32),
  viewer  text NOT NULL,
  channel text NOT NULL
);
CREATE INDEX audit_read_set_by_viewer ON audit_read_set (viewer);

CREATE TABLE audit_read_set_access (
  read_set          bytea NOT NULL REFERENCES audit_read_set (digest),
  n                 int NOT NULL,           -- the access's place in the set, from 1
  first_entry       int NOT NULL,           -- the offset of its first entry among the set's, from 0
  patient           text NOT NULL,
  what              text[] NOT NULL CHECK (cardinality(what) >= 1), -- profile | records | vitals | alerts, in order
  rule              text NOT NULL,
  grant_scopes      smallint,
  grant_granted_at  timestamptz,
  access_expires_at timestamptz,
  PRIMARY KEY (read_set, n),
  CHECK (first_entry >= 0 AND first_entry + cardinality(what) <= 4096)
);
CREATE INDEX audit_read_set_access_by_patient ON audit_read_set_access (patient, read_set);

CREATE TABLE audit_served (
  id         bigint PRIMARY KEY DEFAULT nextval('audit_access_id_seq'),
  read_set   bytea NOT NULL REFERENCES audit_read_set (digest),
  request_id text NOT NULL,
  read_at    timestamptz NOT NULL
);
CREATE INDEX audit_served_by_set ON audit_served (read_set, id DESC);

CREATE OR REPLACE VIEW audit_log AS
SELECT a.id + k.n - 1 AS id, a.viewer, a.patient, k.what, a.rule, a.grant_scopes, a.grant_granted_at,
       a.access_expires_at, a.channel, a.request_id, a.read_at
  FROM audit_access a
 CROSS JOIN LATERAL unnest(a.what) WITH ORDINALITY AS k(what, n)
UNION ALL
SELECT s.id + m.first_entry + k.n - 1, r.viewer, m.patient, k.what, m.rule, m.grant_scopes, m.grant_granted_at,
       m.access_expires_at, r.channel, s.request_id, s.read_at
  FROM audit_served s
  JOIN audit_read_set r ON r.digest = s.read_set
  JOIN audit_read_set_access m ON m.read_set = s.read_set
 CROSS JOIN LATERAL unnest(m.what) WITH ORDINALITY AS k(what, n);

-- Down Migration
-- Every served entry back as rows of audit_access (at most 8 kinds a row), with the same entry ids.
CREATE OR REPLACE VIEW audit_log AS
SELECT a.id + k.n - 1 AS id, a.viewer, a.patient, k.what, a.rule, a.grant_scopes, a.grant_granted_at,
       a.access_expires_at, a.channel, a.request_id, a.read_at
  FROM audit_access a
 CROSS JOIN LATERAL unnest(a.what) WITH ORDINALITY AS k(what, n);
INSERT INTO audit_access
       (id, viewer, patient, what, rule, grant_scopes, grant_granted_at, access_expires_at, channel, request_id, read_at)
SELECT s.id + m.first_entry + c.start, r.viewer, m.patient, m.what[c.start + 1 : c.start + 8], m.rule,
       m.grant_scopes, m.grant_granted_at, m.access_expires_at, r.channel, s.request_id, s.read_at
  FROM audit_served s
  JOIN audit_read_set r ON r.digest = s.read_set
  JOIN audit_read_set_access m ON m.read_set = s.read_set
 CROSS JOIN LATERAL generate_series(0, cardinality(m.what) - 1, 8) AS c(start);
DROP TABLE audit_served, audit_read_set_access, audit_read_set;
ALTER SEQUENCE audit_access_id_seq INCREMENT BY 8;
