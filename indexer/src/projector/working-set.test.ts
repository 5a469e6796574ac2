import { describe, expect, test } from "vitest";
import { WorkingSet } from "./working-set.ts";

const a = (n: string) => `0x${n.repeat(40)}`;

describe("WorkingSet.changedAddresses", () => {
  test("default: the addresses a written row holds before and after the batch, arrays included", () => {
    const rows = new WorkingSet();
    const key = { patient: a("1") };
    rows.seed("alert_recipients", key, { patient: a("1"), recipients: [a("2"), a("3")], updated_at: "t" });
    rows.seed("vitals_ranges", { patient: a("9") }, { patient: a("9"), set_by: a("8") }); // read, not written
    rows.put("alert_recipients", { patient: a("1"), recipients: [a("4")], updated_at: "t2" }, key);
    expect([...rows.changedAddresses()].sort()).toEqual([a("1"), a("2"), a("3"), a("4")]);
  });

  test("behavior: a deleted row's addresses, and nothing that is not an address", () => {
    const rows = new WorkingSet();
    const key = { patient: a("5"), grantee: a("6") };
    rows.seed("grants", key, { ...key, granted_at: "t", event_id: `0x${"7".repeat(64)}:1` });
    rows.put("grants", null, key);
    expect([...rows.changedAddresses()].sort()).toEqual([a("5"), a("6")]);
  });
});
