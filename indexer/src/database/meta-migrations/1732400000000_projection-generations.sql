-- Up Migration
-- Generations of the projection: each is a schema (<base>_p<N>) filled by replaying the events topic from the
-- beginning. Exactly one is active: the stable schema <base> holds views over its tables.
CREATE TABLE projection_generations (
  generation   integer PRIMARY KEY,
  schema_name  text NOT NULL UNIQUE,
  group_id     text NOT NULL,
  status       text NOT NULL CHECK (status IN ('building', 'active', 'retired')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  activated_at timestamptz
);
CREATE UNIQUE INDEX projection_generations_one_active ON projection_generations ((true)) WHERE status = 'active';

-- Down Migration
DROP TABLE projection_generations;
