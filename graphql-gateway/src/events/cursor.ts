import { GatewayError } from "../errors.ts";
import type { GraphQLError } from "../graphql.ts";

/**
 * The events cursor: a place in the committed event feed, durable across reconnects, token renewals and
 * gateway restarts (it names a row of PostgreSQL, not anything in memory). Opaque to clients: base64url of
 * `e1.<origin>.<seq>`, versioned by its prefix so that a later form can be told apart. `origin` names the
 * feed's generation (feed-log.ts): a rebuild numbers the feed afresh, so a cursor from another generation
 * is refused with CURSOR_EXPIRED (restart without a cursor and drop duplicates by event id) rather than
 * read against the wrong numbering.
 */
export type EventCursor = { origin: string; seq: bigint };

const form = /^e1\.([0-9a-f]{12})\.(0|[1-9]\d{0,18})$/;

export function encodeEventCursor(cursor: EventCursor): string {
  return Buffer.from(`e1.${cursor.origin}.${cursor.seq}`).toString("base64url");
}

export function invalidCursor(): GraphQLError {
  return new GatewayError(
    "INVALID_CURSOR",
    "Invalid events cursor: pass a `cursor` or `endCursor` that events returned, unchanged.",
  ).toGraphQLError();
}

export function expiredCursor(): GraphQLError {
  return new GatewayError(
    "CURSOR_EXPIRED",
    "The event log was rebuilt since this cursor was issued: start again without a cursor and drop the events already seen by their id.",
  ).toGraphQLError();
}

/** Throws INVALID_CURSOR unless `value` is a cursor of this form. */
export function decodeEventCursor(value: string): EventCursor {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(value) ? Buffer.from(value, "base64url").toString("utf8") : "";
  const match = form.exec(text);
  if (!match || BigInt(match[2]!) > 2n ** 63n - 1n) throw invalidCursor();
  return { origin: match[1]!, seq: BigInt(match[2]!) };
}

/** The cursor's seq in the feed now at `origin`; CURSOR_EXPIRED when it is another generation's. */
export function seqIn(cursor: EventCursor, origin: string): bigint {
  if (cursor.origin !== origin) throw expiredCursor();
  return cursor.seq;
}
