import DataLoader from "dataloader";
import type { Address } from "viem";
import type { AuditChannel, AuditSink } from "../audit/audit-log.ts";
import { normalizeAddress, type Viewer } from "../auth/viewer.ts";
import type { Database } from "../database/pool.ts";
import { AuditUnavailableError, forbidden } from "../errors.ts";
import { type FactsKey, type LogPosition, loadAccessFacts, loadAccessFactsBatch } from "./facts.ts";
import {
  type AccessFacts,
  type Allowed,
  canRead,
  canReadAccessEvent,
  canReadAlert,
  canReadOwn,
  canStoreDocument,
  canWrite,
  type Decision,
  denialMessage,
  noFacts,
  type ReadKind,
} from "./rules.ts";

export { activeGrantSql, openEmergencySql } from "./active-access.ts";
export type { LogPosition } from "./facts.ts";
export * from "./rules.ts";

/**
 * Facts shared by the policies of decisions taken together (a batch of webhook deliveries: many viewers,
 * patients and places in the log), loaded in one statement per batch of loads and kept for the batch only:
 * make one per batch, so that the next batch sees the grants as they are then.
 */
export class SharedFacts {
  private readonly loader: DataLoader<FactsKey, AccessFacts, string>;

  constructor(db: Database) {
    this.loader = new DataLoader((keys) => loadAccessFactsBatch(db, keys), {
      maxBatchSize: 5000,
      cacheKeyFn: (key) =>
        `${key.viewer}|${key.patient}|${key.asOf ? `${key.asOf.blockNumber}.${key.asOf.logIndex}` : "now"}`,
    });
  }

  load(key: FactsKey): Promise<AccessFacts> {
    return this.loader.load(key);
  }
}

/**
 * The policy as resolvers and subscriptions use it: one instance per request (or per delivered event), so
 * that facts are loaded fresh each time (batched for every patient of the request in one statement) and a
 * revocation counts from the first request after it is indexed. Every allowed read by anyone but the
 * patient goes to the audit log, once per request, patient, kind and rule; the answer waits for `settled()`
 * (stored, or the read refused), so no read leaves unaudited.
 */
export class RequestPolicy {
  private readonly facts: { load(patient: Address): Promise<AccessFacts> } | undefined;
  private readonly audited = new Set<string>();
  private readonly auditWrites: Promise<void>[] = [];
  private auditFailure: Error | undefined;

  constructor(
    private readonly options: {
      db: Database;
      viewer: Viewer;
      requestId: string;
      audit: AuditSink;
      channel: AuditChannel;
      now?: () => Date;
      /** Decide as of this place in the log (a live delivery of the event there), not as of now. */
      asOf?: LogPosition;
      /** Facts loaded together with other policies' (see SharedFacts), instead of a loader of its own. */
      shared?: SharedFacts;
    },
  ) {
    const viewer = options.viewer;
    const shared = options.shared;
    if (viewer.kind === "account" && shared) {
      this.facts = {
        load: (patient) => shared.load({ viewer: viewer.address, patient, asOf: options.asOf }),
      };
    } else if (viewer.kind === "account") {
      this.facts = new DataLoader(
        async (patients) => {
          const found = await loadAccessFacts(options.db, viewer.address, patients, options.asOf);
          return patients.map((patient) => found.get(patient) ?? noFacts);
        },
        { maxBatchSize: 1000 },
      );
    }
  }

  get viewer(): Viewer {
    return this.options.viewer;
  }

  get requestId(): string {
    return this.options.requestId;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private async factsOf(patient: string): Promise<AccessFacts> {
    return this.facts ? this.facts.load(normalizeAddress(patient)) : noFacts;
  }

  /** The decision, without auditing (for choices that read nothing). */
  async canRead(patient: string, what: ReadKind): Promise<Decision> {
    if (this.options.viewer.kind !== "account") return { allowed: false };
    return canRead(
      this.options.viewer,
      normalizeAddress(patient),
      what,
      await this.factsOf(patient),
      this.now(),
    );
  }

  /** Allowed (and audited) or a FORBIDDEN GraphQL error that says nothing about whether the patient exists. */
  async authorize(patient: string, what: ReadKind): Promise<Allowed> {
    const decision = await this.canRead(patient, what);
    if (!decision.allowed) throw forbidden(denialMessage(what));
    this.recordRead(patient, what, decision);
    return decision;
  }

  /** One alert, from a query row or a live event: the patient's alert readers and the alert's recipients. */
  async canReadAlert(alert: { patient: string; recipients: readonly string[] }): Promise<Decision> {
    if (this.options.viewer.kind !== "account") return { allowed: false };
    const patient = normalizeAddress(alert.patient);
    return canReadAlert(this.options.viewer, { ...alert, patient }, await this.factsOf(patient), this.now());
  }

  /** An event about an access: the patient's, and the named party's (rules.ts `canReadAccessEvent`). */
  canReadAccessEvent(event: { patient: string; party: string }): Decision {
    return canReadAccessEvent(this.options.viewer, {
      patient: normalizeAddress(event.patient),
      party: normalizeAddress(event.party),
    });
  }

  /**
   * A sibling policy for one delivered event: the same viewer, audit and channel, with facts of its own
   * (or from the same SharedFacts), as of `asOf` (or now) and audited under `requestId` (or this request's id).
   */
  derive(options: { asOf?: LogPosition; requestId?: string }): RequestPolicy {
    return new RequestPolicy({
      ...this.options,
      asOf: options.asOf,
      requestId: options.requestId ?? this.options.requestId,
    });
  }

  /** May the viewer write for `patient` (records, documents): the contract's WRITE_RECORDS rule. */
  async canWrite(patient: string): Promise<Decision> {
    if (this.options.viewer.kind !== "account") return { allowed: false };
    return canWrite(this.options.viewer, normalizeAddress(patient), await this.factsOf(patient), this.now());
  }

  /** May the viewer store a document filed under `owner` (its own profile, or a patient it writes for). */
  async canStoreDocument(owner: string): Promise<Decision> {
    if (this.options.viewer.kind !== "account") return { allowed: false };
    return canStoreDocument(
      this.options.viewer,
      normalizeAddress(owner),
      await this.factsOf(owner),
      this.now(),
    );
  }

  /** A doctor's or organization's own lists: only itself (not audited: no patient's data is read yet). */
  authorizeOwn(account: string, what: string): void {
    if (!canReadOwn(this.options.viewer, account))
      throw forbidden(`Only the account itself can read its ${what}.`);
  }

  /**
   * Resolves once every audit entry of this request is stored; rejects with AuditUnavailableError when one
   * could not be: the caller must then withhold what it read (fail closed).
   */
  async settled(): Promise<void> {
    while (this.auditWrites.length > 0) await Promise.all(this.auditWrites.splice(0));
    if (this.auditFailure) throw this.auditFailure;
  }

  /** Audit of an allowed read: nothing for the patient's own reads; once per request, patient, kind, rule. */
  recordRead(patient: string, what: ReadKind, decision: Allowed): void {
    const viewer = this.options.viewer;
    if (viewer.kind !== "account" || decision.rule.kind === "self") return;
    const key = `${patient}|${what}|${decision.rule.kind}`;
    if (this.audited.has(key)) return;
    this.audited.add(key);
    const rule = decision.rule;
    const write = this.options.audit.record({
      viewer: viewer.address,
      patient: normalizeAddress(patient),
      what,
      rule: rule.kind,
      grantScopes: rule.kind === "grant" ? rule.scopes : null,
      grantGrantedAt: rule.kind === "grant" ? rule.grantedAt : null,
      accessExpiresAt: rule.kind === "grant" || rule.kind === "emergency" ? rule.expiresAt : null,
      channel: this.options.channel,
      requestId: this.options.requestId,
      readAt: this.now(),
    });
    this.auditWrites.push(
      write.catch((error: unknown) => {
        this.auditFailure ??= error instanceof Error ? error : new AuditUnavailableError({ cause: error });
      }),
    );
  }
}
