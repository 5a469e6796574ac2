import { scopes } from "@carechain/contracts/codes";
import { describe, expect, test } from "vitest";
import { expirySeconds, scopeMask, termsProblem } from "./grant-editor.tsx";

const now = Date.parse("2026-06-01T12:00:00Z");

describe("grant terms, checked in the form", () => {
  test("default: scopes and a future expiry are accepted, as the contract's mask", () => {
    expect(termsProblem(["READ_RECORDS", "READ_VITALS"], now / 1000 + 86_400, now)).toBeUndefined();
    expect(scopeMask(["READ_RECORDS", "WRITE_RECORDS", "READ_VITALS"])).toBe(
      scopes.READ_RECORDS | scopes.WRITE_RECORDS | scopes.READ_VITALS,
    );
  });

  test("args: an empty date is no expiry (0), a date the end of that local day", () => {
    expect(expirySeconds("")).toBe(0);
    expect(termsProblem(["READ_RECORDS"], expirySeconds(""), now)).toBeUndefined();
    const end = new Date(expirySeconds("2026-06-02") * 1000);
    expect([end.getFullYear(), end.getMonth(), end.getDate(), end.getHours(), end.getMinutes()]).toEqual([
      2026, 5, 2, 23, 59,
    ]);
  });

  test("error: no scope, an expiry not in the future, a date that is not one", () => {
    expect(termsProblem([], 0, now)).toMatch(/at least one/);
    expect(termsProblem(["READ_RECORDS"], now / 1000, now)).toMatch(/in the future/);
    expect(termsProblem(["READ_RECORDS"], expirySeconds("not a date"), now)).toMatch(/not a date/);
  });
});
