-- Up Migration
-- Every column sized for the Solidity type it holds, so that a well-formed event always fits (issue 14):
-- uint8 -> smallint (scopes, kind: unchanged), uint16 -> integer (record types, blood pressure; smallint
-- stops at 32767), uint32 -> bigint (record versions), chain ids and log indexes -> bigint (the envelope
-- carries them as safe integers; many chains have ids above 2^31 - 1), block numbers were bigint already,
-- uint64 times stay timestamptz ('infinity' beyond its range). No event has a uint256 field.
--
-- A column that a view reads cannot change type. The views over these tables (the stable schema's views
-- over this generation, and any built on those) are dropped and recreated from their own definitions
-- within this migration's transaction, so that readers never see one missing or a mix of types.
DO $$
DECLARE
  saved_path text := current_setting('search_path');
  -- Resolved through the migration's search_path: this generation's tables.
  altered oid[] := ARRAY['events'::regclass, 'grant_history'::regclass, 'records'::regclass,
                         'vitals_ranges'::regclass, 'vital_readings'::regclass, 'alerts'::regclass];
  views jsonb;
  v record;
BEGIN
  -- An empty search_path makes pg_get_viewdef qualify every name: the definitions mean the same anywhere.
  PERFORM set_config('search_path', 'pg_catalog', true);
  WITH RECURSIVE dependent(view_oid, depth) AS (
    SELECT r.ev_class, 1
      FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
     WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
       AND d.refobjid = ANY (altered)
       AND r.ev_class <> d.refobjid
    UNION
    SELECT r.ev_class, dependent.depth + 1
      FROM dependent JOIN pg_depend d ON d.refobjid = dependent.view_oid
      JOIN pg_rewrite r ON r.oid = d.objid
     WHERE d.classid = 'pg_rewrite'::regclass AND r.ev_class <> dependent.view_oid
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'name', format('%I.%I', n.nspname, c.relname),
           'definition', pg_get_viewdef(c.oid),
           'depth', x.depth)), '[]'::jsonb)
    INTO views
    FROM (SELECT view_oid, max(depth) AS depth FROM dependent GROUP BY view_oid) x
    JOIN pg_class c ON c.oid = x.view_oid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'v';
  PERFORM set_config('search_path', saved_path, true);

  FOR v IN SELECT * FROM jsonb_to_recordset(views) AS j(name text, definition text, depth int)
           ORDER BY depth DESC LOOP
    EXECUTE format('DROP VIEW %s', v.name);
  END LOOP;

  ALTER TABLE events ALTER COLUMN chain_id TYPE bigint, ALTER COLUMN log_index TYPE bigint;
  ALTER TABLE grant_history ALTER COLUMN log_index TYPE bigint;
  ALTER TABLE records ALTER COLUMN record_type TYPE integer, ALTER COLUMN version TYPE bigint,
    ALTER COLUMN log_index TYPE bigint;
  ALTER TABLE vitals_ranges ALTER COLUMN systolic_min TYPE integer, ALTER COLUMN systolic_max TYPE integer,
    ALTER COLUMN diastolic_min TYPE integer, ALTER COLUMN diastolic_max TYPE integer;
  ALTER TABLE vital_readings ALTER COLUMN systolic TYPE integer, ALTER COLUMN diastolic TYPE integer;
  ALTER TABLE alerts ALTER COLUMN systolic TYPE integer, ALTER COLUMN diastolic TYPE integer;

  FOR v IN SELECT * FROM jsonb_to_recordset(views) AS j(name text, definition text, depth int)
           ORDER BY depth LOOP
    EXECUTE format('CREATE VIEW %s AS %s', v.name, v.definition);
  END LOOP;
END $$;

-- Down Migration
-- Only possible while every value fits the narrower types again; the views are left to be recreated by the
-- projector's start (activateGeneration), which recreates the stable schema's views.
DO $$
DECLARE
  v record;
BEGIN
  FOR v IN
    SELECT DISTINCT format('%I.%I', n.nspname, c.relname) AS name
      FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
      JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
       AND d.refobjid IN ('events'::regclass, 'grant_history'::regclass, 'records'::regclass,
                          'vitals_ranges'::regclass, 'vital_readings'::regclass, 'alerts'::regclass)
       AND r.ev_class <> d.refobjid AND c.relkind = 'v'
  LOOP
    EXECUTE format('DROP VIEW IF EXISTS %s CASCADE', v.name);
  END LOOP;
END $$;
ALTER TABLE events ALTER COLUMN chain_id TYPE integer, ALTER COLUMN log_index TYPE integer;
ALTER TABLE grant_history ALTER COLUMN log_index TYPE integer;
ALTER TABLE records ALTER COLUMN record_type TYPE smallint, ALTER COLUMN version TYPE integer,
  ALTER COLUMN log_index TYPE integer;
ALTER TABLE vitals_ranges ALTER COLUMN systolic_min TYPE smallint, ALTER COLUMN systolic_max TYPE smallint,
  ALTER COLUMN diastolic_min TYPE smallint, ALTER COLUMN diastolic_max TYPE smallint;
ALTER TABLE vital_readings ALTER COLUMN systolic TYPE smallint, ALTER COLUMN diastolic TYPE smallint;
ALTER TABLE alerts ALTER COLUMN systolic TYPE smallint, ALTER COLUMN diastolic TYPE smallint;
