import { createSilentLogger } from "@carechain/common";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PatientFetch } from "../operations.ts";
import { createTestGateway, type TestGateway, type World } from "../testing/index.ts";
import { type AuditEntry, AuditLog, requestIdFrom } from "./audit-log.ts";

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
  const entry = (index: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
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
    ...extra,
  });
  const countQueue = async () =>
    (
      await harness.db.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM ${harness.db.gateway}.audit_log WHERE request_id LIKE 'queue-%'`,
      )
    )[0]!.count;
  const clearQueue = () =>
    harness.db.query(`DELETE FROM ${harness.db.gateway}.audit_access WHERE request_id LIKE 'queue-%'`);
  /** The harness's database, with a hook before every statement. */
  const spied = (before: (text: string) => void) =>
    ({
      ...harness.db,
      query: async <R>(text: string, params?: unknown[]) => {
        before(text);
        return (await harness.db.query(text, params)) as R[];
      },
    }) as typeof harness.db;
  const outcomes = (writes: Promise<void>[]) =>
    Promise.all(
      writes.map((write) =>
        write.then(
          () => "stored",
          (error: Error) => error.name,
        ),
      ),
    );

  test("behavior: batches are written with one statement each", async () => {
    const statements: string[] = [];
    const log = new AuditLog({
      db: spied((text) => statements.push(text)),
      logger: createSilentLogger(),
      flushIntervalMs: 60_000,
      maxBatchRows: 1000,
    });
    const writes = outcomes(Array.from({ length: 2500 }, (_, index) => log.record(entry(index))));
    await log.flush();
    expect(new Set(await writes)).toEqual(new Set(["stored"]));
    expect(statements).toHaveLength(3);
    expect(await countQueue()).toBe(2500);
    await clearQueue();
  });

  test("behavior: every field is stored as given, in queue order, when requests and accesses repeat", async () => {
    const log = new AuditLog({ db: harness.db, logger: createSilentLogger(), flushIntervalMs: 60_000 });
    const readAt = new Date(Date.UTC(2026, 10, 30, 11, 7, 10, 586));
    const grant = { rule: "grant" as const, grantScopes: 5, grantGrantedAt: new Date(1_764_500_159_142) };
    const given: AuditEntry[] = [
      entry(0, { ...grant, what: "profile", readAt }),
      entry(0, { ...grant, what: "vitals", readAt }),
      entry(0, { ...grant, what: "profile", readAt, patient: "0x00000000000000000000000000000000000000a2" }),
      // Same request id, other time: a request of its own.
      entry(0, { ...grant, what: "records", readAt: new Date(readAt.getTime() + 1) }),
      entry(1, {
        what: "alerts",
        rule: "emergency",
        grantScopes: null,
        grantGrantedAt: null,
        accessExpiresAt: new Date(Date.UTC(2027, 0, 1, 0, 0, 0, 999)),
        channel: "subscription",
        readAt,
      }),
      entry(2, { ...grant, what: "vitals", viewer: "0x00000000000000000000000000000000000000b3", readAt }),
    ];
    await Promise.all([...given.map((one) => log.record(one)), log.flush()]);
    const stored = await harness.db.query<Record<string, unknown>>(
      `SELECT viewer, patient, what, rule, grant_scopes, grant_granted_at, access_expires_at, channel,
              request_id, read_at
         FROM ${harness.db.gateway}.audit_log WHERE request_id LIKE 'queue-%' ORDER BY id`,
    );
    expect(stored).toEqual(
      given.map((one) => ({
        viewer: one.viewer,
        patient: one.patient,
        what: one.what,
        rule: one.rule,
        grant_scopes: one.grantScopes,
        grant_granted_at: one.grantGrantedAt,
        access_expires_at: one.accessExpiresAt,
        channel: one.channel,
        request_id: one.requestId,
        read_at: one.readAt,
      })),
    );
    await clearQueue();
  });

  test("behavior: entries that arrive while a write runs share the next one (group commit)", async () => {
    const statements: string[] = [];
    const log = new AuditLog({ db: spied((text) => statements.push(text)), logger: createSilentLogger() });
    // Recorded in one go: one write.
    await Promise.all(Array.from({ length: 50 }, (_, index) => log.record(entry(index))));
    expect(statements).toHaveLength(1);
    // One write in flight: whatever arrives meanwhile waits for it, then shares the next.
    const first = log.record(entry(50));
    await new Promise((resolve) => setImmediate(resolve));
    expect(statements).toHaveLength(2);
    const rest = Array.from({ length: 49 }, (_, index) => log.record(entry(index + 51)));
    await Promise.all([first, ...rest]);
    expect(statements).toHaveLength(3);
    expect(await countQueue()).toBe(100);
    await clearQueue();
  });

  test("error: one entry the database rejects is refused alone; the others are stored", async () => {
    const log = new AuditLog({ db: harness.db, logger: createSilentLogger(), flushIntervalMs: 60_000 });
    // A NUL byte cannot be stored in a text column: the probe's poisoned row.
    const writes = Array.from({ length: 10 }, (_, index) =>
      log.record(entry(index, index === 6 ? { what: "rec\u0000ords" as AuditEntry["what"] } : {})),
    );
    const settled = outcomes(writes);
    await log.flush();
    const expected = writes.map((_, index) => (index === 6 ? "AuditUnavailableError" : "stored"));
    expect(await settled).toEqual(expected);
    expect(await countQueue()).toBe(9);
    // Nothing is stuck behind it.
    const next = log.record(entry(10));
    await log.flush();
    await next;
    expect(await countQueue()).toBe(10);
    await clearQueue();
  });

  test("error: client-chosen request ids that are not plain are refused before they reach the database", async () => {
    const statements: string[] = [];
    const log = new AuditLog({ db: spied((text) => statements.push(text)), logger: createSilentLogger() });
    await expect(log.record(entry(0, { requestId: "queue-\u0000-x" }))).rejects.toThrow(
      "could not be audited",
    );
    expect(statements).toEqual([]);
    expect(requestIdFrom("ws:abc:1", () => "fresh")).toBe("ws:abc:1");
    expect(requestIdFrom("a\u0000b", () => "fresh")).toBe("fresh");
    expect(requestIdFrom("x".repeat(101), () => "fresh")).toBe("fresh");
    expect(requestIdFrom(42, () => "fresh")).toBe("fresh");
  });

  test("error: an unavailable database refuses the reads waiting on it; later ones are stored again", async () => {
    let failures = 1;
    const health: boolean[] = [];
    const log = new AuditLog({
      db: spied(() => {
        if (failures-- > 0) throw Object.assign(new Error("connection terminated"), { code: "57P01" });
      }),
      logger: createSilentLogger(),
      flushIntervalMs: 60_000,
      onHealth: (ok) => health.push(ok),
    });
    const refused = outcomes(Array.from({ length: 5 }, (_, index) => log.record(entry(index))));
    await log.flush();
    expect(await refused).toEqual(Array.from({ length: 5 }, () => "AuditUnavailableError"));
    const later = log.record(entry(5));
    await log.flush();
    await later;
    expect(health).toEqual([false, true]);
    expect(await countQueue()).toBe(1);
    await clearQueue();
  });
});

describe("audit log: reads wait for their audit", () => {
  test("behavior: every answered read is already stored when the answer arrives", async () => {
    const reads = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        harness.query<{ patient: { records: unknown } | null }>(PatientFetch, {
          token: world.grantedDoctor.token,
          variables: { address: world.patient.address },
          headers: { "x-request-id": `answered-${index}` },
        }),
      ),
    );
    // No flush: a crash right after the answers would lose nothing.
    const [{ count }] = (await harness.db.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM ${harness.db.gateway}.audit_log WHERE request_id LIKE 'answered-%'`,
    )) as [{ count: number }];
    expect(reads.every((read) => read.data?.patient?.records)).toBe(true);
    expect(count).toBe(60);
  });

  test("error: reads that cannot be audited are refused with AUDIT_UNAVAILABLE, and the metric says so", async () => {
    // Both places a read is stored: a row per access (executed) and a row per request served a kept answer.
    const tables = ["audit_access", "audit_served"].map((table) => `${harness.db.gateway}.${table}`);
    for (const table of tables)
      await harness.db.query(`ALTER TABLE ${table} ADD CONSTRAINT audit_probe CHECK (false) NOT VALID`);
    try {
      const result = await harness.query<{ patient: { records: unknown } | null }>(PatientFetch, {
        token: world.grantedDoctor.token,
        variables: { address: world.patient.address },
      });
      expect(result.data?.patient ?? null).toBeNull();
      expect(result.errors?.map((error) => error.extensions?.code)).toContain("AUDIT_UNAVAILABLE");
      expect(await harness.common.metrics.text()).toMatch(
        /carechain_gateway_audit_refused_total\{owner="all",reason="rejected"[^}]*\} [1-9]/,
      );
      expect(await harness.common.metrics.text()).toMatch(
        /carechain_gateway_audit_healthy\{owner="all"[^}]*\} 0/,
      );
      // The patient's own reads need no audit and go on.
      const own = await harness.query<{ patient: { address: string } }>(PatientFetch, {
        token: world.patient.token,
        variables: { address: world.patient.address },
      });
      expect(own.data?.patient?.address).toBe(world.patient.address);
    } finally {
      for (const table of tables) await harness.db.query(`ALTER TABLE ${table} DROP CONSTRAINT audit_probe`);
    }
    const again = await harness.query<{ patient: { records: unknown } }>(PatientFetch, {
      token: world.grantedDoctor.token,
      variables: { address: world.patient.address },
    });
    expect(again.data?.patient?.records).toBeTruthy();
  });
});
