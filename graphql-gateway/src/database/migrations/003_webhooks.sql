-- Up Migration
-- Event delivery as data (issue 17): organizations' API keys, their webhook subscriptions, the outbox of
-- deliveries the delivery service fills from the committed event feed, and every attempt to send one.
-- Written by the gateway's mutations (graphql-gateway/src/webhooks/) and by the delivery service
-- (delivery/); no personal data: events carry ids, hashes and addresses only, as on chain. Each delivery
-- is audited in audit_log with channel = 'webhook'.

-- Long-lived credentials for machines: `cck_<id>_<secret>`, shown once; only the SHA-256 of the secret is
-- kept. Rotation issues a new key and lets the old one expire after an overlap, so there is no gap.
CREATE TABLE IF NOT EXISTS api_keys (
  id           text PRIMARY KEY,               -- "key_" + 16 hex; public, part of the key
  owner        text NOT NULL,                  -- the organization's address, lower case
  name         text NOT NULL,
  secret_hash  text NOT NULL,                  -- hex SHA-256 of the secret part
  scopes       text[] NOT NULL,                -- e.g. {delivery}
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,                    -- null: until revoked
  revoked_at   timestamptz,
  last_used_at timestamptz
);
CREATE INDEX IF NOT EXISTS api_keys_by_owner ON api_keys (owner, created_at);

CREATE TABLE IF NOT EXISTS webhook_subscriptions (
  id             text PRIMARY KEY,             -- "sub_" + 16 hex
  owner          text NOT NULL,                -- the organization's address, lower case
  url            text NOT NULL,
  event_types    text[] NOT NULL,              -- public EventType names (events/schema.ts)
  patients       text[],                       -- null: every patient whose events the owner may see
  secret         text NOT NULL,                -- Standard Webhooks signing secret ("whsec_" + base64)
  status         text NOT NULL DEFAULT 'active'
                 CHECK (status IN ('active', 'paused', 'failing')),
  failure_reason text,                         -- why it is failing, for the owner and the operator
  feed_origin    text,                         -- the event feed generation `feed_seq` belongs to
  feed_seq       bigint NOT NULL DEFAULT 0,    -- decided up to here: the next event to consider is after it
  lease_owner    text,                         -- the delivery instance that fills its outbox now
  lease_until    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS webhook_subscriptions_by_owner ON webhook_subscriptions (owner, created_at);

-- The outbox: one row per (subscription, admitted event). Per patient, a row is sent only when every
-- earlier row of the same subscription and patient is delivered, so events arrive in chain order.
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  subscription_id text NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  seq             bigint NOT NULL,             -- the event's place in the feed
  event_id        text NOT NULL,               -- the public event id (the webhook-id header)
  event_type      text NOT NULL,
  patient         text NOT NULL,
  body            jsonb NOT NULL,              -- the public event (events/schema.ts), as POSTed
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'delivered', 'withheld', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_status     integer,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  PRIMARY KEY (subscription_id, seq)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
  WHERE status = 'pending';
-- "Is an earlier delivery of this subscription and patient still pending or failed?" (the senders' order).
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_patient ON webhook_deliveries (subscription_id, patient, seq)
  WHERE status IN ('pending', 'failed');

CREATE TABLE IF NOT EXISTS webhook_attempts (
  id              bigserial PRIMARY KEY,
  subscription_id text NOT NULL,
  seq             bigint NOT NULL,
  attempt         integer NOT NULL,
  started_at      timestamptz NOT NULL,
  latency_ms      integer NOT NULL,
  status_code     integer,                     -- null: no HTTP answer (refused, timeout)
  error           text,                        -- short: never the receiver's body
  FOREIGN KEY (subscription_id, seq) REFERENCES webhook_deliveries (subscription_id, seq) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS webhook_attempts_by_delivery ON webhook_attempts (subscription_id, seq, id);

-- Down Migration
DROP TABLE IF EXISTS webhook_attempts, webhook_deliveries, webhook_subscriptions, api_keys;
