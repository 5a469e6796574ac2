// Property: over random sequences of grant / change / revoke / time jumps (evm_increaseTime) / writes, the
// contracts behave exactly like a small TypeScript model of the consent rules.
//
// Time: expiries are whole "units" of UNIT seconds after the latest block when the grant is sent, and the
// clock only jumps by whole units, so the small wall-clock drift within a run (seconds) never crosses an
// expiry. The jumps move the shared anvil's clock forward (about ten minutes over the whole property): tests that
// share the chain must take times from the latest block, not from the wall clock.
import { getStack } from "@carechain/stack/testing";
import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";
import { ALL_SCOPES, recordTypes, scopes } from "../codes.ts";
import { ContractRevertedError } from "../errors.ts";
import { randomBytes32 } from "../ids.ts";
import { type Actor, type CareChainFixture, deployFixture } from "../testing.ts";

const UNIT = 10;

type Command =
  | { kind: "grant" | "change"; grantee: number; scopes: number; units: number }
  | { kind: "revoke"; grantee: number }
  | { kind: "warp"; units: number }
  | { kind: "write"; grantee: number };

type ModelGrant = { scopes: number; expiresAtUnit: number | undefined; revoked: boolean };

class Model {
  clock = 0; // units jumped so far
  grants = new Map<number, ModelGrant>();

  active(grantee: number): boolean {
    const g = this.grants.get(grantee);
    return !!g && !g.revoked && (g.expiresAtUnit === undefined || this.clock < g.expiresAtUnit);
  }

  /** The error the contract must answer with, or undefined for success; applies the command. */
  apply(cmd: Command): string | undefined {
    switch (cmd.kind) {
      case "grant":
      case "change": {
        const active = this.active(cmd.grantee);
        if (cmd.kind === "grant" && active) return "GrantAlreadyActive";
        if (cmd.kind === "change" && !active) return "NoActiveGrant";
        const expiresAtUnit = cmd.units === 0 ? undefined : this.clock + cmd.units;
        this.grants.set(cmd.grantee, { scopes: cmd.scopes, expiresAtUnit, revoked: false });
        return undefined;
      }
      case "revoke": {
        const g = this.grants.get(cmd.grantee);
        if (!g || g.revoked) return "NoGrant";
        g.revoked = true;
        return undefined;
      }
      case "warp":
        this.clock += cmd.units;
        return undefined;
      case "write": {
        const g = this.grants.get(cmd.grantee);
        return this.active(cmd.grantee) && g && (g.scopes & scopes.WRITE_RECORDS) !== 0
          ? undefined
          : "NoWriteAccess";
      }
    }
  }
}

const grantee = fc.integer({ min: 0, max: 1 });
const scopeMask = fc.integer({ min: 1, max: ALL_SCOPES });
const units = fc.integer({ min: 0, max: 2 }); // 0: no expiry
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("grant" as const), grantee, scopes: scopeMask, units }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("change" as const), grantee, scopes: scopeMask, units }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("revoke" as const), grantee }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("warp" as const), units: fc.constant(1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("write" as const), grantee }) },
);

let fx: CareChainFixture;
let doctors: Actor[];

beforeAll(async () => {
  fx = await deployFixture(getStack().rpcUrl);
  doctors = await fx.createActors("doctor", 2);
});

async function run(patient: Actor, cmd: Command): Promise<string | undefined> {
  const client = patient.client;
  const send = async (): Promise<unknown> => {
    switch (cmd.kind) {
      case "grant":
      case "change": {
        const expiresAt = cmd.units === 0 ? 0n : (await fx.now()) + BigInt(cmd.units * UNIT);
        const args = { grantee: doctors[cmd.grantee]!.address, scopes: cmd.scopes, expiresAt };
        return cmd.kind === "grant" ? client.grantAccess(args) : client.changeAccess(args);
      }
      case "revoke":
        return client.revokeAccess({ grantee: doctors[cmd.grantee]!.address });
      case "warp":
        return fx.increaseTime(cmd.units * UNIT);
      case "write":
        return doctors[cmd.grantee]!.client.addRecord({
          patient: patient.address,
          recordType: recordTypes.labResult,
          contentHash: randomBytes32(),
          storagePointer: "0x01",
        });
    }
  };
  try {
    await send();
    return undefined;
  } catch (error) {
    if (error instanceof ContractRevertedError) return error.errorName;
    throw error;
  }
}

describe("consent rules", () => {
  test("behavior: the contracts match the model over random grant/change/revoke/expire/write sequences", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 16 }), async (commands) => {
        const patient = await fx.createActor("patient");
        const model = new Model();
        for (const cmd of commands) {
          const expected = model.apply(cmd);
          expect(await run(patient, cmd), JSON.stringify(cmd)).toBe(expected);
        }
        for (const [index, doctor] of doctors.entries()) {
          const active = await patient.client.read.consentManager.read.isGrantActive([
            patient.address,
            doctor.address,
          ]);
          expect(active, `grant of doctor ${index}`).toBe(model.active(index));
        }
      }),
      { numRuns: 40 },
    );
  });
});
