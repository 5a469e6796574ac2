-- Up Migration
-- Encrypted record documents (graphql-gateway/src/documents): metadata of each ciphertext blob, addressed by
-- the SHA-256 of its ciphertext (the record's on-chain content hash), and the document key wrapped for each
-- reader (X25519 + HKDF-SHA256 + AES-256-GCM; the gateway cannot open them).

CREATE TABLE IF NOT EXISTS documents (
  content_hash text PRIMARY KEY,          -- 0x + 64 hex, SHA-256 of the ciphertext
  patient      text NOT NULL,
  author       text NOT NULL,
  size         bigint NOT NULL,           -- ciphertext bytes
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS documents_by_patient ON documents (patient, created_at DESC);

CREATE TABLE IF NOT EXISTS document_keys (
  content_hash text NOT NULL REFERENCES documents (content_hash) ON DELETE CASCADE,
  reader       text NOT NULL,
  wrapped_key  bytea NOT NULL,
  added_by     text NOT NULL,
  added_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (content_hash, reader)
);

-- Down Migration
DROP TABLE IF EXISTS document_keys, documents;
