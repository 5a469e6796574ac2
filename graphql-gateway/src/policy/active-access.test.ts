/**
 * The two forms of the access rule agree: for every generated grant / emergency access / doctor state, the
 * SQL condition evaluated in PostgreSQL selects exactly the rows whose facts (loaded by `loadAccessFacts`)
 * the predicate calls active, both judged at one fixed `now`.
 */
import { migrate } from "@carechain/indexer";
import { createTestSchema, getStack, type TestSchema } from "@carechain/stack/testing";
import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDatabase, type Database } from "../database/pool.ts";
import { activeGrantSql, isActiveGrant, isOpenEmergency, openEmergencySql } from "./active-access.ts";
import { loadAccessFacts } from "./facts.ts";

const now = new Date("2025-06-01T12:00:00.000Z");
const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
const hour = 3_600_000;

/** Expiry edges, as seen from `now` (chain times are whole seconds; 1 ms is the finest a Date holds). */
const expiries: { edge: string; value: string | null; active: boolean }[] = [
  { edge: "long expired", value: at(-hour), active: false },
  { edge: "just after expiry", value: at(-1), active: false },
  { edge: "at expiry", value: at(0), active: false },
  { edge: "just before expiry", value: at(1), active: true },
  { edge: "expires later", value: at(hour), active: true },
  { edge: "expiry beyond any date (uint64)", value: "infinity", active: true },
];
const grantExpiries = [...expiries, { edge: "no expiry (0)", value: null, active: true }];

/**
 * Grant rows as the projector leaves them. A re-grant after a revocation rewrites the row (revoked_at back
 * to NULL, new granted_at and terms).
 */
const grantStates = [
  { edge: "granted", granted_at: at(-24 * hour), revoked_at: null, active: true },
  { edge: "revoked", granted_at: at(-24 * hour), revoked_at: at(-hour), active: false },
  { edge: "revoked at now", granted_at: at(-24 * hour), revoked_at: at(0), active: false },
  { edge: "re-granted", granted_at: at(-60_000), revoked_at: null, active: true },
];
const emergencyStates = [
  { edge: "opened", closed_at: null, active: true },
  { edge: "closed", closed_at: at(-hour), active: false },
  { edge: "closed at now", closed_at: at(0), active: false },
];
const doctorStates = [
  { edge: "verified doctor", verified: true, verified_by: "0xr", active: true },
  { edge: "de-verified doctor", verified: false, verified_by: "0xr", active: false },
  { edge: "never verified doctor", verified: false, verified_by: null, active: false },
  { edge: "not a doctor", verified: null, verified_by: null, active: false }, // no row
];

type Case = {
  viewer: Address;
  patient: Address;
  grant: string | null;
  emergency: string | null;
  /** What the rule says, from the edges: pins the meaning as well as the agreement. */
  expected: { grant: boolean; emergency: boolean };
};

const hex = (prefix: number, n: number) =>
  `0x${prefix.toString(16)}${n.toString(16).padStart(39, "0")}` as Address;

/**
 * Every viewer x (no grant | every grant state) x (no emergency | every emergency state). Rows are inserted
 * with json_populate_recordset, which ignores the keys that are not columns (`edge`, `active`).
 */
function generate() {
  const cases: Case[] = [];
  const rows = { doctors: [] as object[], grants: [] as object[], emergency_access: [] as object[] };
  const grants = [null, ...grantStates.flatMap((s) => grantExpiries.map((e) => ({ s, e })))];
  const emergencies = [null, ...emergencyStates.flatMap((s) => expiries.map((e) => ({ s, e })))];
  doctorStates.forEach((doctor, d) => {
    const viewer = hex(d + 1, 0);
    if (doctor.verified !== null) {
      const registered = { registered_block: 1, registered_at: at(-72 * hour), updated_at: at(-72 * hour) };
      rows.doctors.push({
        ...doctor,
        ...registered,
        address: viewer,
        profile_hash: "p",
        encryption_key: "k",
        license_hash: "l",
      });
    }
    let n = 0;
    for (const grant of grants) {
      for (const emergency of emergencies) {
        const patient = hex(d + 1, ++n);
        if (grant) {
          const { s, e } = grant;
          rows.grants.push({
            ...s,
            patient,
            grantee: viewer,
            scopes: 7,
            expires_at: e.value,
            updated_at: s.granted_at,
          });
        }
        if (emergency) {
          const { s, e } = emergency;
          rows.emergency_access.push({
            ...s,
            patient,
            doctor: viewer,
            expires_at: e.value,
            reason_hash: "r",
            opened_at: at(-2 * hour),
          });
        }
        cases.push({
          viewer,
          patient,
          grant: grant && `${grant.s.edge}, ${grant.e.edge}`,
          emergency: emergency && `${emergency.s.edge}, ${emergency.e.edge}, ${doctor.edge}`,
          expected: {
            grant: !!grant && grant.s.active && grant.e.active,
            emergency: !!emergency && emergency.s.active && emergency.e.active && doctor.active,
          },
        });
      }
    }
  });
  return { cases, rows };
}

let schema: TestSchema;
let db: Database;

beforeAll(async () => {
  schema = await createTestSchema("policy");
  db = createDatabase({
    url: getStack().databaseUrl,
    projectionSchema: schema.schema,
    gatewaySchema: schema.schema,
    max: 2,
  });
  await migrate({ databaseUrl: getStack().databaseUrl, schema: schema.schema });
});

afterAll(async () => {
  await db?.close();
  await schema?.drop();
});

describe("active access: predicate and SQL", () => {
  test("behavior: agree on every generated grant, emergency access and doctor state", async () => {
    const { cases, rows } = generate();
    const p = db.projection;
    for (const [table, list] of Object.entries(rows)) {
      await db.query(
        `INSERT INTO ${p}.${table} SELECT * FROM json_populate_recordset(NULL::${p}.${table}, $1)`,
        [JSON.stringify(list)],
      );
    }

    const selected = async (sql: string) =>
      new Set((await db.query<{ key: string }>(sql, [now])).map((row) => row.key));
    const sqlGrants = await selected(
      `SELECT g.grantee || '|' || g.patient AS key FROM ${p}.grants g WHERE ${activeGrantSql("g", "$1::timestamptz")}`,
    );
    const sqlEmergencies = await selected(
      `SELECT e.doctor || '|' || e.patient AS key FROM ${p}.emergency_access e
        WHERE ${openEmergencySql("e", p, "$1::timestamptz")}`,
    );

    const disagreements: string[] = [];
    const wrong: string[] = [];
    for (const viewer of new Set(cases.map((c) => c.viewer))) {
      const ofViewer = cases.filter((c) => c.viewer === viewer);
      const facts = await loadAccessFacts(
        db,
        viewer,
        ofViewer.map((c) => c.patient),
      );
      for (const c of ofViewer) {
        const key = `${c.viewer}|${c.patient}`;
        const ts = {
          grant: isActiveGrant(facts.get(c.patient)?.grant ?? null, now),
          emergency: isOpenEmergency(facts.get(c.patient)?.emergency ?? null, now),
        };
        const sql = { grant: sqlGrants.has(key), emergency: sqlEmergencies.has(key) };
        if (ts.grant !== sql.grant)
          disagreements.push(`grant [${c.grant}]: ts ${ts.grant}, sql ${sql.grant}`);
        if (ts.emergency !== sql.emergency)
          disagreements.push(`emergency [${c.emergency}]: ts ${ts.emergency}, sql ${sql.emergency}`);
        if (ts.grant !== c.expected.grant) wrong.push(`grant [${c.grant}]: ${ts.grant}`);
        if (ts.emergency !== c.expected.emergency) wrong.push(`emergency [${c.emergency}]: ${ts.emergency}`);
      }
    }
    // Deduplicated: each state recurs once per state of the other table.
    expect([...new Set(disagreements)]).toEqual([]);
    expect([...new Set(wrong)]).toEqual([]);

    // Not vacuous: every edge is among the cases, and each form says yes and no.
    const labels = cases.flatMap((c) => [c.grant ?? "", c.emergency ?? ""]).join("\n");
    for (const { edge } of [...grantStates, ...grantExpiries, ...emergencyStates, ...doctorStates]) {
      expect(labels, edge).toContain(edge);
    }
    for (const form of ["grant", "emergency"] as const) {
      expect(new Set(cases.map((c) => c.expected[form]))).toEqual(new Set([true, false]));
    }
    expect(sqlGrants.size).toBe(cases.filter((c) => c.expected.grant).length);
    expect(sqlEmergencies.size).toBe(cases.filter((c) => c.expected.emergency).length);
  });
});
