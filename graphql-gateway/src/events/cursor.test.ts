import { describe, expect, test } from "vitest";
import { decodeEventCursor, encodeEventCursor, seqIn } from "./cursor.ts";

const origin = "0123456789ab";
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { extensions?: { code?: string } }).extensions?.code;
  }
  return "no error";
};

describe("events cursor", () => {
  test("default: round-trips origin and seq, opaque and URL-safe", () => {
    const cursor = encodeEventCursor({ origin, seq: 9_007_199_254_740_993n });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeEventCursor(cursor)).toEqual({ origin, seq: 9_007_199_254_740_993n });
    expect(seqIn(decodeEventCursor(cursor), origin)).toBe(9_007_199_254_740_993n);
  });

  test("error: anything but one of our cursors is INVALID_CURSOR", () => {
    const forms = [
      "",
      "x",
      "e1.0123456789AB.1",
      `e2.${origin}.1`,
      `e1.${origin}.-1`,
      `e1.${origin}.01`,
      `e1.${origin}.99999999999999999999`,
    ];
    for (const text of forms) {
      const value = text.startsWith("e") ? Buffer.from(text).toString("base64url") : text;
      expect(
        code(() => decodeEventCursor(value)),
        text,
      ).toBe("INVALID_CURSOR");
    }
    expect(code(() => decodeEventCursor("a".repeat(200)))).toBe("INVALID_CURSOR");
  });

  test("error: a cursor of another feed generation is CURSOR_EXPIRED", () => {
    const cursor = decodeEventCursor(encodeEventCursor({ origin, seq: 5n }));
    expect(code(() => seqIn(cursor, "ffffffffffff"))).toBe("CURSOR_EXPIRED");
  });
});
