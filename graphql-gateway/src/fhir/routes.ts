import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "@carechain/common";
import type { AuditSink } from "../audit/audit-log.ts";
import { isAddress, normalizeAddress, type Viewer } from "../auth/viewer.ts";
import type { Database } from "../database/pool.ts";
import { GatewayError, UnauthenticatedError } from "../errors.ts";
import type { Router } from "../http.ts";
import { RequestPolicy } from "../policy/index.ts";
import { searchsetBundle } from "./bundle.ts";
import { capabilityStatement, type SearchType, searchTypes } from "./capability-statement.ts";
import { ChartReader } from "./chart.ts";
import { sendFhir, sendOutcome } from "./outcome.ts";

export const fhirBasePath = "/fhir/R4";

/** Most resources of one kind in one answer unless the options say (`_count` may ask for fewer). */
export const defaultFhirLimit = 1000;

type Query = Record<string, string | string[] | undefined>;

/** One FHIR request: who asks, the request id, the base URL of links, and the query. */
type Call = {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string | undefined>;
  query: Query;
  base: string;
  origin: string;
};

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * The patient of a search: `patient` (or `subject`), as `0x…` or `Patient/0x…`. A missing or malformed
 * value is the client's mistake, answered 400 (it says nothing about any patient).
 */
function patientParam(query: Query): string {
  const raw = first(query.patient) ?? first(query.subject);
  const address = raw?.replace(/^(?:.*\/)?Patient\//, "");
  if (!isAddress(address))
    throw new GatewayError(
      "BAD_USER_INPUT",
      "Search by patient: ?patient=0x… (the patient's account address).",
    );
  return normalizeAddress(address);
}

function countParam(query: Query, limit: number): number {
  const raw = first(query._count);
  if (raw === undefined) return limit;
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1)
    throw new GatewayError("BAD_USER_INPUT", "_count is a whole number of at least 1.");
  return Math.min(count, limit);
}

/**
 * The FHIR R4 API at `/fhir/R4` (JSON, `application/fhir+json`), a patient's chart from the projections:
 *
 *   GET metadata                          CapabilityStatement (public)
 *   GET Patient/:id                       Patient (id = the account address)
 *   GET Patient/:id/$everything           searchset Bundle: the Patient and every part the reader may read
 *   GET Observation?patient=0x…           blood pressure (LOINC 85354-9), with the Devices
 *   GET DocumentReference?patient=0x…     records, every version (amendments `replaces` the one before)
 *   GET Flag?patient=0x…                  vitals alerts
 *   GET Consent?patient=0x…               grants (the patient only)
 *   GET AuditEvent?patient=0x…            the access log (the patient only)
 *
 * Every read needs a bearer token (401 otherwise) and is decided by the policy module as the GraphQL API's
 * (`canRead` per kind of data) and audited; the answer waits until the audit log has stored the read, and
 * is refused (503) when it cannot. A denial is one 403 OperationOutcome, the same for an unknown patient.
 */
export function addFhirRoutes(
  router: Router,
  deps: {
    db: Database;
    audit: AuditSink;
    log: Logger;
    /** Who asks (from the bearer token) and the request id. */
    context: (req: IncomingMessage, res: ServerResponse) => Promise<{ viewer: Viewer; requestId: string }>;
    /** Rate limit: false when the request was refused (and answered). */
    admit?: (req: IncomingMessage, res: ServerResponse) => boolean;
    /** Most resources of one kind in one answer (default 1000). */
    limit?: number;
  },
): void {
  const { db, audit, log } = deps;
  const limit = deps.limit ?? defaultFhirLimit;

  /** Links point back at this server as the client reached it (behind a proxy: its forwarded scheme). */
  function originOf(req: IncomingMessage): string {
    const proto = first(req.headers["x-forwarded-proto"])?.split(",")[0]?.trim();
    return `${proto === "https" ? "https" : "http"}://${req.headers.host ?? "localhost"}`;
  }

  /**
   * Signed in, or 401 (before the parameters are looked at); the policy of this request and the chart of
   * the patient `patientOf` names under it.
   */
  async function chartOf(call: Call, patientOf: (call: Call) => string) {
    const { viewer, requestId } = await deps.context(call.req, call.res);
    if (viewer.kind !== "account") throw new UnauthenticatedError("Sign in to read FHIR resources.");
    const patient = patientOf(call);
    const count = countParam(call.query, limit);
    const policy = new RequestPolicy({ db, viewer, requestId, audit, channel: "query" });
    const chart = new ChartReader({
      db,
      policy,
      patient,
      limit: count,
      documentUrl: (contentHash) => `${call.origin}/documents/${contentHash}`,
    });
    await chart.open();
    return { policy, chart };
  }

  function patientId(call: Call): string {
    const id = call.params.id;
    if (!isAddress(id))
      throw new GatewayError("NOT_FOUND", "No such Patient: a patient's id is its 0x account address.");
    return normalizeAddress(id);
  }

  async function readPatient(call: Call) {
    const { policy, chart } = await chartOf(call, patientId);
    const patient = await chart.patient();
    await policy.settled(); // nothing leaves before its read is audited
    sendFhir(call.res, 200, patient);
  }

  async function everything(call: Call) {
    const { policy, chart } = await chartOf(call, patientId);
    const result = await chart.everything();
    await policy.settled();
    sendFhir(call.res, 200, searchsetBundle(call.base, `${call.origin}${call.req.url}`, result));
  }

  const search = (type: SearchType) => async (call: Call) => {
    const { policy, chart } = await chartOf(call, (c) => patientParam(c.query));
    const result = await chart.search(type);
    await policy.settled();
    sendFhir(call.res, 200, searchsetBundle(call.base, `${call.origin}${call.req.url}`, result));
  };

  /** Every FHIR answer, failures too, is FHIR: an OperationOutcome, never the gateway's `{ error }`. */
  const route =
    (handler: (call: Call) => Promise<void>) =>
    async (
      req: IncomingMessage,
      res: ServerResponse,
      params: Record<string, string | undefined>,
      _store: unknown,
      query: Query,
    ) => {
      try {
        if (deps.admit && !deps.admit(req, res)) return;
        const origin = originOf(req);
        await handler({ req, res, params, query: query ?? {}, origin, base: `${origin}${fhirBasePath}` });
      } catch (error) {
        sendOutcome(res, error, log);
      }
    };

  const base = fhirBasePath;
  router.on(
    "GET",
    `${base}/metadata`,
    route(async (call) => sendFhir(call.res, 200, capabilityStatement(call.base))),
  );
  router.on("GET", `${base}/Patient/:id`, route(readPatient));
  router.on("GET", `${base}/Patient/:id/$everything`, route(everything));
  for (const type of searchTypes) router.on("GET", `${base}/${type}`, route(search(type)));
  // Anything else under the base is a FHIR answer too: this server only reads, and only the above.
  const notServed = route(async (call) => {
    const { req, res, params } = call;
    // `%24everything` (a client that encodes the `$`) reaches here, decoded.
    const encoded = /^Patient\/([^/]+)\/\$everything$/.exec(params["*"] ?? "");
    if (req.method === "GET" && encoded) return everything({ ...call, params: { id: encoded[1] } });
    if (req.method !== "GET") {
      res.setHeader("allow", "GET");
      throw new GatewayError("METHOD_NOT_ALLOWED", "This FHIR server only reads: use GET.");
    }
    throw new GatewayError("NOT_FOUND", "Not served here: see metadata for what this FHIR server answers.");
  });
  router.all(`${base}/*`, notServed);
  router.all(base, notServed);
}
