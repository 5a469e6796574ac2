import type { Resource } from "@medplum/fhirtypes";
import { readAccessLog } from "../audit/access-log.ts";
import type { Role, Viewer } from "../auth/viewer.ts";
import type { Database } from "../database/pool.ts";
import { GatewayError } from "../errors.ts";
import { createIdentityLoaders } from "../loaders/identity.ts";
import {
  type AlertRow,
  alertColumns,
  type GrantRow,
  grantColumns,
  type ReadingRow,
  type RecordRow,
  readingColumns,
  recordColumns,
  type VitalsRangeRow,
  vitalsRangeColumns,
} from "../loaders/rows.ts";
import type { Allowed, ReadKind, RequestPolicy } from "../policy/index.ts";
import { auditEventResource } from "./audit-event.ts";
import type { SearchResult } from "./bundle.ts";
import { consentResource } from "./consent.ts";
import { documentReferenceResource } from "./document-reference.ts";
import { flagResource } from "./flag.ts";
import { organizationResource, patientResource, practitionerResource } from "./identity.ts";
import { type DeviceRow, deviceResource, observationResource } from "./observation.ts";

/**
 * The parts of a chart, each read under the policy's rule for its kind of data (rules.ts `canRead`):
 * nothing is read without a rule, so a part without one cannot be served (fail closed).
 */
export const chartParts = {
  Patient: "profile",
  DocumentReference: "records",
  Observation: "vitals",
  Flag: "alerts",
  Consent: "grants",
  AuditEvent: "accessLog",
} as const satisfies Record<string, ReadKind>;
export type ChartPart = keyof typeof chartParts;

/**
 * The one denial of every FHIR read, whatever the reason (no such patient, no grant, a grant without the
 * scope, revoked, expired): the same status and words, so that it tells nothing about the patient.
 */
export const chartDenied = () =>
  new GatewayError("FORBIDDEN", "No such patient, or you may not read this part of the patient's chart.");

/**
 * One request's reads of one patient's chart, decided by the request's policy and audited by it: `open`
 * checks that the patient is registered and the viewer may see it at all; `patient`, `search` and
 * `everything` decide each part, read it from the projections and map it to FHIR; the caller sends nothing
 * before `policy.settled()`.
 */
export class ChartReader {
  private readonly identity;

  constructor(
    private readonly options: {
      db: Database;
      policy: RequestPolicy;
      patient: string;
      /** Most resources of one kind in one answer (the newest; a warning says when a list was cut). */
      limit: number;
      documentUrl: (contentHash: string) => string;
      now?: () => Date;
    },
  ) {
    this.identity = createIdentityLoaders(options.db);
  }

  private get viewer(): Viewer {
    return this.options.policy.viewer;
  }

  /** The decision for one part, audited when allowed; null when denied. */
  private async allow(part: ChartPart): Promise<Allowed | null> {
    const what = chartParts[part];
    const decision = await this.options.policy.canRead(this.options.patient, what);
    if (!decision.allowed) return null;
    this.options.policy.recordRead(this.options.patient, what, decision);
    return decision;
  }

  /**
   * The patient may be shown to this viewer (its profile rule) and is registered: otherwise `chartDenied`,
   * the same for both, so a stranger cannot tell a patient from an unknown address.
   */
  async open(): Promise<void> {
    const decision = await this.options.policy.canRead(this.options.patient, "profile");
    if (!decision.allowed) throw chartDenied();
    if (!(await this.identity.patient.load(this.options.patient))) throw chartDenied();
  }

  /** The Patient resource (audited as a profile read). */
  async patient(): Promise<Resource> {
    if (!(await this.allow("Patient"))) throw chartDenied();
    const row = await this.identity.patient.load(this.options.patient);
    if (!row) throw chartDenied();
    return patientResource(row);
  }

  /** One part as a search answers it: `chartDenied` when the viewer may not read it. */
  async search(part: Exclude<ChartPart, "Patient">): Promise<SearchResult> {
    const decision = await this.allow(part);
    if (!decision) throw chartDenied();
    return this.readPart(part, decision);
  }

  /**
   * `Patient/$everything`: the Patient and every part the viewer may read, the others left out (an insurer
   * with READ_RECORDS gets the documents, not the vitals; only the patient gets its consents and access log).
   */
  async everything(): Promise<SearchResult> {
    const matches: Resource[] = [await this.patient()];
    const parts = ["DocumentReference", "Observation", "Flag", "Consent", "AuditEvent"] as const;
    // The parts at once (their decisions share one facts statement); the answer keeps this order.
    const results = await Promise.all(
      parts.map(async (part) => {
        const decision = await this.allow(part);
        return decision ? this.readPart(part, decision) : null;
      }),
    );
    const included: Resource[] = [];
    const truncated: string[] = [];
    for (const result of results) {
      if (!result) continue;
      matches.push(...result.matches);
      included.push(...result.included);
      truncated.push(...(result.truncated ?? []));
    }
    return { matches, included, truncated };
  }

  private readPart(part: Exclude<ChartPart, "Patient">, decision: Allowed): Promise<SearchResult> {
    switch (part) {
      case "DocumentReference":
        return this.records();
      case "Observation":
        return this.vitals();
      case "Flag":
        return this.alerts(decision);
      case "Consent":
        return this.consents();
      case "AuditEvent":
        return this.accessLog();
    }
  }

  /** `limit + 1` rows tell whether the list was cut. */
  private cut<T>(rows: T[], what: string, truncated: string[]): T[] {
    if (rows.length <= this.options.limit) return rows;
    truncated.push(`${this.options.limit} ${what}`);
    return rows.slice(0, this.options.limit);
  }

  private async roleOf(address: string): Promise<Role> {
    return (await this.identity.role.load(address))?.role ?? "none";
  }

  /** The Practitioner or Organization behind each address (a verified doctor's registrar too), if known. */
  private async actors(addresses: Iterable<string>): Promise<Resource[]> {
    const { doctor, organization } = this.identity;
    const unique = [...new Set(addresses)];
    const roles = await Promise.all(unique.map((address) => this.roleOf(address)));
    const doctors = (
      await Promise.all(unique.filter((_, i) => roles[i] === "doctor").map((address) => doctor.load(address)))
    ).filter((row) => row !== null);
    const registrars = doctors.flatMap((row) => (row.verified && row.verifiedBy ? [row.verifiedBy] : []));
    const organizations = (
      await Promise.all(
        [...new Set([...unique.filter((_, i) => roles[i] === "organization"), ...registrars])].map(
          (address) => organization.load(address),
        ),
      )
    ).filter((row) => row !== null);
    return [...doctors.map(practitionerResource), ...organizations.map(organizationResource)];
  }

  private async records(): Promise<SearchResult> {
    const { db, patient, limit, documentUrl } = this.options;
    const truncated: string[] = [];
    const rows = this.cut(
      await db.query<RecordRow>(
        `SELECT ${recordColumns("r")} FROM ${db.projection}.records r WHERE r.patient = $1
          ORDER BY r.block_number DESC, r.log_index DESC LIMIT $2`,
        [patient, limit + 1],
      ),
      "record versions",
      truncated,
    );
    const matches = await Promise.all(
      rows.map(async (row) => documentReferenceResource(row, await this.roleOf(row.author), documentUrl)),
    );
    return { matches, included: await this.actors(rows.map((row) => row.author)), truncated };
  }

  private async vitals(): Promise<SearchResult> {
    const { db, patient, limit } = this.options;
    const p = db.projection;
    const truncated: string[] = [];
    const [readings, ranges] = await Promise.all([
      db.query<ReadingRow>(
        `SELECT ${readingColumns("v")} FROM ${p}.vital_readings v WHERE v.patient = $1
          ORDER BY v.measured_at DESC, v.event_id LIMIT $2`,
        [patient, limit + 1],
      ),
      db.query<VitalsRangeRow>(
        `SELECT ${vitalsRangeColumns("r")} FROM ${p}.vitals_ranges r WHERE r.patient = $1`,
        [patient],
      ),
    ]);
    const kept = this.cut(readings, "blood-pressure readings", truncated);
    return {
      matches: kept.map((row) => observationResource(row, ranges[0] ?? null)),
      included: await this.devices(kept.map((row) => row.device)),
      truncated,
    };
  }

  /**
   * The patient's devices (every one it authorized) and any other device the given readings or alerts
   * name: part of the vitals, so only with them.
   */
  private async devices(named: string[]): Promise<Resource[]> {
    const { db, patient } = this.options;
    const rows = await db.query<DeviceRow>(
      `SELECT device, patient, authorized_at AS "authorizedAt", revoked_at AS "revokedAt"
         FROM ${db.projection}.devices WHERE patient = $1 ORDER BY authorized_at, device`,
      [patient],
    );
    const byAddress = new Map(rows.map((row) => [row.device, row]));
    const addresses = new Set([...rows.map((row) => row.device), ...named]);
    return [...addresses].map((address) => deviceResource(address, patient, byAddress.get(address)));
  }

  /** Alerts: all of them, or, for an alert recipient, only those that name it. */
  private async alerts(decision: Allowed): Promise<SearchResult> {
    const { db, patient, limit } = this.options;
    const recipient = decision.recipientOnly && this.viewer.kind === "account" ? this.viewer.address : null;
    const truncated: string[] = [];
    const rows = this.cut(
      await db.query<AlertRow>(
        `SELECT ${alertColumns("a")} FROM ${db.projection}.alerts a
          WHERE a.patient = $1 AND ($2::text IS NULL OR a.recipients @> ARRAY[$2::text])
          ORDER BY a.measured_at DESC, a.event_id LIMIT $3`,
        [patient, recipient, limit + 1],
      ),
      "alerts",
      truncated,
    );
    // A recipient sees the alerts naming it, not the patient's devices (those come with the vitals).
    return {
      matches: rows.map(flagResource),
      included: recipient ? [] : await this.devices(rows.map((row) => row.device)),
      truncated,
    };
  }

  /** Every grant the patient gave, current or not (revoked and expired ones are inactive Consents). */
  private async consents(): Promise<SearchResult> {
    const { db, patient, limit } = this.options;
    const truncated: string[] = [];
    const rows = this.cut(
      await db.query<GrantRow>(
        `SELECT ${grantColumns("g")} FROM ${db.projection}.grants g WHERE g.patient = $1
          ORDER BY g.granted_at DESC, g.grantee LIMIT $2`,
        [patient, limit + 1],
      ),
      "grants",
      truncated,
    );
    const now = this.options.now?.() ?? new Date();
    const matches = await Promise.all(
      rows.map(async (row) => consentResource(row, await this.roleOf(row.grantee), now)),
    );
    return { matches, included: await this.actors(rows.map((row) => row.grantee)), truncated };
  }

  private async accessLog(): Promise<SearchResult> {
    const { db, patient, limit } = this.options;
    const truncated: string[] = [];
    const rows = this.cut(
      await readAccessLog(db, patient, { before: null, limit: limit + 1 }),
      "access log entries",
      truncated,
    );
    const matches = await Promise.all(
      rows.map(async (row) => auditEventResource(row, await this.roleOf(row.viewer))),
    );
    return { matches, included: await this.actors(rows.map((row) => row.viewer)), truncated };
  }
}
