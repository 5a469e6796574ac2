import { badUserInput } from "../errors.ts";

/**
 * Opaque Relay cursors, bound to the list they come from: `owner` is the patient (or list name) whose list
 * the cursor points into, so a cursor taken from one patient's records is refused on another's.
 */
export function encodeCursor(owner: string, position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([owner, ...position])).toString("base64url");
}

export function decodeCursor(cursor: string, owner: string, arity: number): (string | number)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== arity + 1 ||
    parsed[0] !== owner ||
    !parsed.slice(1).every((part) => typeof part === "string" || typeof part === "number")
  ) {
    throw badUserInput("Invalid cursor: use an `endCursor` returned by this same list.");
  }
  return parsed.slice(1) as (string | number)[];
}

/** Relay `first`: a default, at least 0 and at most `max` (BAD_USER_INPUT otherwise). */
export function pageSize(first: number | null | undefined, max: number, fallback = 20): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 0) throw badUserInput("`first` must be a non-negative integer.");
  if (size > max) throw badUserInput(`\`first\` must be at most ${max}; got ${size}.`);
  return size;
}

export type PageInfo = {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
};

/** A Relay connection from rows fetched with `limit first + 1`. */
export function connection<T>(
  rows: readonly T[],
  first: number,
  cursorOf: (row: T) => string,
  hasPrevious: boolean,
): { edges: { cursor: string; node: T }[]; pageInfo: PageInfo } {
  const edges = rows.slice(0, first).map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: hasPrevious,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
