import type { EventName, Logger } from "@carechain/common";
import type { Viewer } from "../auth/viewer.ts";
import type { Database } from "../database/pool.ts";
import { badUserInput, forbidden } from "../errors.ts";
import { type PageInfo, pageSize } from "../loaders/cursor.ts";
import type { RequestPolicy } from "../policy/index.ts";
import { decodeEventCursor, encodeEventCursor, expiredCursor } from "./cursor.ts";
import { admitEvent, deliveryRequestId } from "./delivery.ts";
import { type FeedItem, feedEnd, readFeedPage } from "./feed-log.ts";
import { type EventType, eventTypeOf, eventTypes, type FeedEvent, sourceOf, toFeedEvent } from "./schema.ts";
import { resumableEventStream } from "./stream.ts";

/** An event as GraphQL delivers it (`Event`): the public event and the cursor to resume after it. */
export type EventNode = FeedEvent & { cursor: string };

export type EventsArgs = {
  after?: string | null;
  types?: readonly EventType[] | null;
  patients?: readonly string[] | null;
};

/** At most this many patients in one filter: a longer list is refused, not silently cut. */
const maxPatients = 1000;
/** Feed rows one events page may decide on before it answers with what it has (hasNextPage: true). */
const maxScannedPerPage = 2000;

/** Which events a reader asked for (by public type and patient): Query.events, Subscription.events, webhooks. */
export type Filter = {
  types: ReadonlySet<EventType>;
  sources: EventName[];
  patients: string[] | null;
};

export function filterOf(args: EventsArgs): Filter {
  const types = new Set(args.types && args.types.length > 0 ? args.types : eventTypes);
  if (args.patients && args.patients.length > maxPatients)
    throw badUserInput(`\`patients\` must name at most ${maxPatients} patients.`);
  return {
    types,
    sources: [...new Set([...types].map((type) => sourceOf[type]))],
    patients: args.patients ? [...new Set(args.patients.map((patient) => patient.toLowerCase()))] : null,
  };
}

export const matches = (filter: Filter, item: FeedItem): boolean => {
  const type = eventTypeOf(item.envelope);
  const patient = (item.envelope.payload as { patient?: string }).patient;
  return (
    type !== null &&
    filter.types.has(type) &&
    (filter.patients === null || (patient !== undefined && filter.patients.includes(patient)))
  );
};

/**
 * One item for one viewer: null unless it matches the filter and the delivery decision (delivery.ts)
 * admits it, which also audits it. Each event is decided by policies of its own (`policy.derive`), audited
 * under the request id and the event's place in the chain, so the access log names every delivered event.
 */
async function deliver(policy: RequestPolicy, filter: Filter, item: FeedItem): Promise<EventNode | null> {
  if (!matches(filter, item)) return null;
  const event = toFeedEvent(item.envelope);
  if (event === null) return null;
  const requestId = deliveryRequestId(policy.requestId, item.envelope);
  const admitted = await admitEvent((asOf) => policy.derive({ asOf, requestId }), item.envelope);
  if (!admitted) return null;
  return { ...event, cursor: encodeEventCursor(item) };
}

function signedIn(viewer: Viewer): string {
  if (viewer.kind !== "account") throw forbidden("Sign in to read events.");
  return viewer.address;
}

/**
 * Query.events: the viewer's events after `after`, oldest first. `endCursor` is where to continue: past
 * the last edge when the rows after it were not for this viewer, so polling with it never rescans them.
 */
export async function eventsPage(
  deps: { db: Database; policy: RequestPolicy; maxPageSize: number },
  args: EventsArgs & { first?: number | null },
): Promise<{ edges: { cursor: string; node: EventNode }[]; pageInfo: PageInfo }> {
  const viewer = signedIn(deps.policy.viewer);
  const first = pageSize(args.first, deps.maxPageSize, 50);
  const filter = filterOf(args);
  const cursor = args.after ? decodeEventCursor(args.after) : null;
  let origin = cursor?.origin;
  let after = cursor?.seq ?? 0n;
  const edges: { cursor: string; node: EventNode }[] = [];
  let hasNextPage = false;
  let scanned = 0;
  for (;;) {
    const page = await readFeedPage(deps.db, {
      viewer,
      after,
      limit: first + 1,
      types: filter.sources,
      patients: filter.patients,
    });
    origin ??= page.origin;
    if (page.origin !== origin) throw expiredCursor();
    let filled = false;
    for (const item of page.items) {
      if (edges.length === first) {
        filled = true;
        break;
      }
      scanned++;
      after = item.seq;
      const node = await deliver(deps.policy, filter, item);
      if (node) edges.push({ cursor: node.cursor, node });
    }
    if (filled) {
      hasNextPage = true;
      break;
    }
    if (!page.full) {
      if (page.horizon > after) after = page.horizon;
      break;
    }
    if (scanned >= maxScannedPerPage) {
      hasNextPage = true;
      break;
    }
  }
  return {
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage: cursor !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: encodeEventCursor({ origin, seq: after }),
    },
  };
}

/**
 * Subscription.events: with `after`, what the viewer missed since that cursor, then live; without, live
 * from now. Every event carries its cursor: resuming with the last one received loses nothing.
 */
export async function subscribeEvents(
  deps: { db: Database; logger: Logger; subscribe: (listener: (item: FeedItem) => void) => () => void },
  policy: RequestPolicy,
  args: EventsArgs,
  onEnd: () => void,
): Promise<AsyncIterableIterator<{ events: EventNode }>> {
  const viewer = signedIn(policy.viewer);
  const filter = filterOf(args);
  const cursor = args.after ? decodeEventCursor(args.after) : null;
  const start = cursor ?? (await feedEnd(deps.db));
  return resumableEventStream({
    start,
    subscribe: deps.subscribe,
    readPage: (after) =>
      readFeedPage(deps.db, {
        viewer,
        after,
        limit: 200,
        types: filter.sources,
        patients: filter.patients,
      }),
    matches: (item) => matches(filter, item),
    accept: async (item) => {
      const node = await deliver(policy, filter, item);
      return node ? { events: node } : null;
    },
    onEnd,
    logger: deps.logger,
  });
}
