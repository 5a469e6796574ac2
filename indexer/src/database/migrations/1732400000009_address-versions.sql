-- Up Migration
-- Versions per address, so that a write about one patient no longer ends every kept answer (migration 0006
-- bumps one version for all). The projector stamps each address that a row it changed holds, before or
-- after the change, with a new version in the same transaction (`address_version.bumped_at`, written by
-- indexer/src/projector/address-stamps.ts). The gateway keeps an answer of a query whose reach is known (its
-- viewer, its variables and the addresses in the answer) while none of those addresses was stamped after
-- the version it read before computing it.
-- Any other change cannot be attributed to addresses: a TRUNCATE, or a writer that does not stamp (a
-- hand-made UPDATE). The statement triggers of migration 0006 then also bump `unattributed`, which ends every
-- kept answer. The projector says it stamps with a transaction setting (carechain.addresses_stamped).
CREATE TABLE address_version (
  address   text PRIMARY KEY,
  bumped_at bigint NOT NULL
);
ALTER TABLE read_version ADD COLUMN unattributed bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION bump_read_version() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' OR coalesce(current_setting('carechain.addresses_stamped', true), '') <> 'on' THEN
    UPDATE read_version SET version = version + 1, unattributed = unattributed + 1;
  ELSE
    UPDATE read_version SET version = version + 1;
  END IF;
  RETURN NULL;
END $$;

-- Down Migration
CREATE OR REPLACE FUNCTION bump_read_version() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE read_version SET version = version + 1;
  RETURN NULL;
END $$;
ALTER TABLE read_version DROP COLUMN unattributed;
DROP TABLE address_version;
