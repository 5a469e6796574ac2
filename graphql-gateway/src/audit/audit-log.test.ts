import { createSilentLogger } from "@carechain/common";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PatientFetch } from "../operations.ts";
import { createTestGateway, type TestGateway, type World } from "../testing/fixtures.ts";
import { type AuditEntry, AuditLog } from "./audit-log.ts";

let harness: TestGateway;
let world: World;

beforeAll(async () => {
  harness = await createTestGateway({ audit: { flushIntervalMs: 20 } });
  world = await harness.createWorld();
});

afterAll(async () => {
  await harness?.stop();
});

type Row = {
  viewer: string;
  patient: string;
  what: string;
  rule: string;
  grant_scopes: number | null;
  channel: string;
  request_id: string;
};

const rowsFor = (requestId: string) =>
  harness.db.query<Row>(
    `SELECT viewer, patient, what, rule, grant_scopes, channel, request_id FROM ${harness.db.gateway}.audit_log
      WHERE request_id = $1 ORDER BY what`,
    [requestId],
  );

async function read(token: string | null, requestId: string, query = PatientFetch) {
  const result = await harness.query(query, {
    token,
    variables: { address: world.patient.address },
    headers: { "x-request-id": requestId },
  });
  expect(result.headers.get("x-request-id")).toBe(requestId);
  await harness.audit.flush();
  return rowsFor(requestId);
}

describe("audit log", () => {
  test("default", async () => {
    const rows = await read(world.grantedDoctor.token, "audit-default");
    // PatientFetch reads the profile, records and vitals (grants are the patient's only: FORBIDDEN, not read).
    expect(rows).toEqual(
      ["profile", "records", "vitals"].map((what) => ({
        viewer: world.grantedDoctor.address,
        patient: world.patient.address,
        what,
        rule: "grant",
        grant_scopes: 7,
        channel: "query",
        request_id: "audit-default",
      })),
    );
  });

  test("behavior: every permitted read by someone else is recorded with its rule", async () => {
    const insurer = await read(world.insurer.token, "audit-insurer");
    expect(insurer.map((row) => [row.what, row.rule, row.grant_scopes])).toEqual([
      ["profile", "grant", 1],
      ["records", "grant", 1],
    ]);
    const emergency = await read(world.emergencyDoctor.token, "audit-emergency");
    expect(emergency.map((row) => [row.what, row.rule, row.grant_scopes])).toEqual([
      ["profile", "emergency", null],
      ["records", "emergency", null],
      ["vitals", "emergency", null],
    ]);
    const recipient = await read(
      world.alertRecipient.token,
      "audit-recipient",
      `query($address: Address!) { patient(address: $address) { alerts { id } } }`,
    );
    expect(recipient.map((row) => [row.what, row.rule])).toEqual([
      ["alerts", "alert-recipient"],
      ["profile", "alert-recipient"],
    ]);
  });

  test("behavior: the patient's own reads and denied reads are not recorded", async () => {
    expect(await read(world.patient.token, "audit-self")).toEqual([]);
    expect(await read(world.ungrantedDoctor.token, "audit-denied")).toEqual([]);
    expect(await read(null, "audit-anonymous")).toEqual([]);
  });

  test("behavior: the patient reads its access log, newest first, paged", async () => {
    const query = `query($address: Address!, $after: String) { patient(address: $address) {
      accessLog(first: 2, after: $after) { edges { node { viewer what rule grantScopes channel requestId } }
        pageInfo { hasNextPage endCursor } } } }`;
    await read(world.grantedDoctor.token, "audit-log-1");
    const first = await harness.query<{
      patient: {
        accessLog: {
          edges: { node: Record<string, unknown> }[];
          pageInfo: { endCursor: string; hasNextPage: boolean };
        };
      };
    }>(query, { token: world.patient.token, variables: { address: world.patient.address } });
    expect(first.errors).toBeUndefined();
    const log = first.data!.patient.accessLog;
    // The last request's three reads come first (their order among themselves is the subgraphs' order).
    const entry = (what: string) => ({
      viewer: world.grantedDoctor.address,
      what,
      rule: "GRANT",
      grantScopes: ["READ_RECORDS", "WRITE_RECORDS", "READ_VITALS"],
      channel: "QUERY",
      requestId: "audit-log-1",
    });
    expect(log.edges).toHaveLength(2);
    for (const edge of log.edges)
      expect([entry("PROFILE"), entry("RECORDS"), entry("VITALS")]).toContainEqual(edge.node);
    expect(log.pageInfo.hasNextPage).toBe(true);
    const next = await harness.query<{
      patient: { accessLog: { edges: { node: { requestId: string } }[] } };
    }>(query, {
      token: world.patient.token,
      variables: { address: world.patient.address, after: log.pageInfo.endCursor },
    });
    expect(next.data!.patient.accessLog.edges[0]!.node.requestId).toBe("audit-log-1");
  });
});

describe("audit log queue", () => {
  const entry = (index: number): AuditEntry => ({
    viewer: "0x00000000000000000000000000000000000000b2",
    patient: "0x00000000000000000000000000000000000000a1",
    what: "records",
    rule: "grant",
    grantScopes: 1,
    grantGrantedAt: new Date(0),
    accessExpiresAt: null,
    channel: "query",
    requestId: `queue-${index}`,
    readAt: new Date(),
  });
  const countQueue = async () =>
    (
      await harness.db.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM ${harness.db.gateway}.audit_log WHERE request_id LIKE 'queue-%'`,
      )
    )[0]!.count;

  test("behavior: batches are written with one statement each", async () => {
    const statements: string[] = [];
    const db = {
      ...harness.db,
      query: async <R>(text: string, params?: unknown[]) => {
        statements.push(text);
        return (await harness.db.query(text, params)) as R[];
      },
    } as typeof harness.db;
    const log = new AuditLog({
      db,
      logger: createSilentLogger(),
      flushIntervalMs: 60_000,
      maxBatchRows: 1000,
    });
    for (let index = 0; index < 2500; index++) log.record(entry(index));
    await log.stop();
    expect(statements).toHaveLength(3);
    expect(await countQueue()).toBe(2500);
    await harness.db.query(`DELETE FROM ${harness.db.gateway}.audit_log WHERE request_id LIKE 'queue-%'`);
  });

  test("error: a failing database loses nothing: rows wait for the next flush, and stop flushes them", async () => {
    let failures = 2;
    const db = {
      ...harness.db,
      query: async <R>(text: string, params?: unknown[]) => {
        if (failures-- > 0) throw new Error("database unavailable");
        return (await harness.db.query(text, params)) as R[];
      },
    } as typeof harness.db;
    const log = new AuditLog({
      db,
      logger: createSilentLogger(),
      flushIntervalMs: 60_000,
      maxBatchRows: 500,
    });
    for (let index = 0; index < 10; index++) log.record(entry(index));
    await expect(log.flush()).rejects.toThrow("database unavailable");
    expect(log.depth).toBe(10);
    await log.stop();
    expect(log.depth).toBe(0);
    expect(await countQueue()).toBe(10);
    await harness.db.query(`DELETE FROM ${harness.db.gateway}.audit_log WHERE request_id LIKE 'queue-%'`);
  });

  test("behavior: a gateway shut down before its first flush writes every read", async () => {
    const slow = await createTestGateway({ audit: { flushIntervalMs: 60_000, maxBatchRows: 100_000 } });
    try {
      const people = await slow.createWorld();
      const reads = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          slow.query(PatientFetch, {
            token: people.grantedDoctor.token,
            variables: { address: people.patient.address },
            headers: { "x-request-id": `shutdown-${index}` },
          }),
        ),
      );
      expect(reads.every((read) => read.errors?.length === 1)).toBe(true);
      expect(slow.audit.depth).toBe(60);
      // The order of a real shutdown: gateway and subgraphs stop taking requests, then the audit log flushes.
      await slow.gateway.stop();
      await Promise.all(slow.subgraphs.map((subgraph) => subgraph.close()));
      await slow.audit.stop();
      const [{ count }] = (await slow.db.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM ${slow.db.gateway}.audit_log WHERE request_id LIKE 'shutdown-%'`,
      )) as [{ count: number }];
      expect(count).toBe(60);
    } finally {
      await slow.stop();
    }
  });
});
