import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { careChainErrorsAbi } from "../generated/abis.ts";
import { revertMessage, revertMessages } from "./client/revert-messages.ts";
import {
  ALL_SCOPES,
  limits,
  organizationKindNames,
  organizationKinds,
  recordTypeNames,
  recordTypes,
  roles,
  scopeNames,
  scopes,
} from "./codes.ts";
import { randomRecordId } from "./ids.ts";

/** `NAME = value` constants of contracts/src/interfaces/ICareChainTypes.sol. */
function solidityConstants(): Record<string, number> {
  const source = readFileSync(
    join(import.meta.dirname, "..", "src", "interfaces", "ICareChainTypes.sol"),
    "utf8",
  );
  return Object.fromEntries(
    [...source.matchAll(/constant\s+(\w+)\s*=\s*(\d+);/g)].map((m) => [m[1]!, Number(m[2])]),
  );
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

describe("code tables", () => {
  const sol = solidityConstants();

  test("default: record types equal the Solidity constants", () => {
    for (const [name, code] of Object.entries(recordTypes))
      expect(sol[`RECORD_${snake(name)}`], name).toBe(code);
    expect(Math.max(...Object.values(recordTypes))).toBe(sol.MAX_RECORD_TYPE);
  });

  test("default: organization kinds, roles and scopes equal the Solidity constants", () => {
    for (const [name, code] of Object.entries(organizationKinds))
      expect(sol[`ORG_${snake(name)}`], name).toBe(code);
    expect(Math.max(...Object.values(organizationKinds))).toBe(sol.MAX_ORG_KIND);
    for (const [name, code] of Object.entries(roles)) expect(sol[`ROLE_${snake(name)}`], name).toBe(code);
    for (const [name, code] of Object.entries(scopes)) expect(sol[`SCOPE_${name}`], name).toBe(code);
    expect(ALL_SCOPES).toBe(sol.ALL_SCOPES);
  });

  test("behavior: names and codes invert", () => {
    expect(recordTypeNames[2]).toBe("labResult");
    expect(organizationKindNames[organizationKinds.insurer]).toBe("insurer");
    expect(scopeNames(scopes.READ_RECORDS | scopes.READ_VITALS)).toEqual(["READ_RECORDS", "READ_VITALS"]);
    expect(scopeNames(0)).toEqual([]);
  });

  test("args: limits mirror the contracts", () => {
    expect(limits.MAX_POINTER_LENGTH).toBe(512);
    expect(limits.MAX_EMERGENCY_DURATION).toBe(86_400);
  });

  test("default: randomRecordId gives distinct 32-byte ids", () => {
    const a = randomRecordId();
    expect(a).toMatch(/^0x[0-9a-f]{64}$/);
    expect(randomRecordId()).not.toBe(a);
  });

  test("default: every custom error of the ABI has a readable message", () => {
    for (const item of careChainErrorsAbi) expect(revertMessages).toHaveProperty(item.name);
    expect(revertMessage("NotAPatient", ["0x00000000000000000000000000000000000000aa"])).toContain(
      "is not a registered patient",
    );
    expect(revertMessage("SomethingElse", [1n])).toBe("The contract reverted with SomethingElse(1).");
  });
});
