/**
 * What the pull API and the resumable subscription cost per event, on a real gateway and PostgreSQL: 1,000
 * records of one patient (through the projector's applyBatch), pulled 100 at a time by a granted doctor
 * (every event decided as of itself and now, and audited) and by the patient (decided, not audited), and
 * replayed by a subscription from the start of the feed.
 *
 *   npx vitest bench --run graphql-gateway/src/events/events.bench.ts
 */
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, bench, describe } from "vitest";
import WebSocket from "ws";
import { createTestGateway, lower, newAccount, type TestGateway } from "../testing/index.ts";

const events = 1_000;
let harness: TestGateway;
let doctorToken: string;
let patientToken: string;

beforeAll(async () => {
  harness = await createTestGateway({ subscriptions: true });
  await harness.gateway.subscriptionsReady;
  const patient = newAccount();
  const doctor = newAccount();
  const p = await harness.fixtures.patient(patient.address, { block: 1 });
  const d = await harness.fixtures.doctor(doctor.address, { block: 2 });
  await harness.fixtures.grant({ patient: p, grantee: d, scopes: 1, block: 10 });
  for (let i = 0; i < events; i++)
    await harness.fixtures.record({ patient: p, author: lower(d), type: 1, block: 100 + i });
  [doctorToken, patientToken] = await Promise.all([harness.signIn(doctor), harness.signIn(patient)]);
}, 600_000);

afterAll(async () => {
  await harness?.stop();
});

const query = `query ($after: String) { events(after: $after, first: 100) {
  edges { node { id type data } } pageInfo { hasNextPage endCursor } } }`;

type Page = { events: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };

async function pullAll(token: string): Promise<void> {
  let after: string | null = null;
  let seen = 0;
  for (;;) {
    const { data, errors }: { data?: Page | null; errors?: unknown } = await harness.query<Page>(query, {
      token,
      variables: { after },
    });
    if (!data) throw new Error(JSON.stringify(errors));
    seen += data.events.edges.length;
    after = data.events.pageInfo.endCursor;
    if (!data.events.pageInfo.hasNextPage) break;
  }
  if (seen < events) throw new Error(`saw ${seen} events`);
}

async function replayAll(token: string): Promise<void> {
  const client = createClient({
    url: harness.gateway.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  // An empty page's cursor names this feed's generation: the same generation at seq 0 is its start.
  const first = await harness.query<{ events: { pageInfo: { endCursor: string } } }>(
    `{ events(first: 0) { pageInfo { endCursor } } }`,
    { token },
  );
  const origin = Buffer.from(first.data!.events.pageInfo.endCursor, "base64url").toString().split(".")[1];
  const after = Buffer.from(`e1.${origin}.0`).toString("base64url");
  try {
    await new Promise<void>((resolve, reject) => {
      let seen = 0;
      client.subscribe(
        { query: `subscription ($after: String) { events(after: $after) { id } }`, variables: { after } },
        {
          next: () => {
            if (++seen === events) resolve();
          },
          error: reject,
          complete: () => {},
        },
      );
    });
  } finally {
    await client.dispose();
  }
}

describe(`${events} events`, () => {
  bench("pull, 100 a page, as a granted doctor (decided and audited per event)", () => pullAll(doctorToken), {
    iterations: 3,
    warmupIterations: 1,
  });
  bench("pull, 100 a page, as the patient (decided, not audited)", () => pullAll(patientToken), {
    iterations: 3,
    warmupIterations: 1,
  });
  bench("subscription replay from the start, as a granted doctor", () => replayAll(doctorToken), {
    iterations: 3,
    warmupIterations: 1,
  });
});
