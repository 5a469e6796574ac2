-- Up Migration
-- The gateway's access rule has one owner (graphql-gateway/src/policy/active-access.ts, its predicate and its
-- SQL form, tested to agree); these copies of it were read by nothing. CASCADE: the stable schema's views
-- over them go too (activateGeneration makes views only for what the generation has).
DROP VIEW open_emergency_access, active_grants CASCADE;

-- Down Migration
-- As 1732400000002 made them; the stable schema's views over them come back at the projector's next start.
CREATE VIEW active_grants AS
  SELECT * FROM grants
  WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now());

CREATE VIEW open_emergency_access AS
  SELECT * FROM emergency_access
  WHERE closed_at IS NULL AND expires_at > now();
