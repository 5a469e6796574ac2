// The demo against a system of its own (startTestSystem: a fresh deployment, ingest, projector, gateway on
// the test run's servers): contract state is per deployment, so the well-known demo accounts can be
// registered here whatever other deployments on this chain hold. With the gateway given, the records
// carry real encrypted documents, which `npm run query -- … DocumentFetch` reads as a demo account.
import { identityRegistryAbi, vitalsMonitorAbi } from "@carechain/contracts";
import { createPublicClient, http } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fetchDocument } from "../cli/query.ts";
import { startTestSystem, type TestSystem } from "../testing.ts";
import { demoAccounts } from "./accounts.ts";
import { demoDocuments } from "./documents.ts";
import { demoRecords, seedDemo } from "./scenario.ts";

let running: TestSystem | undefined;

beforeAll(async () => {
  running = await startTestSystem({
    label: "demo",
    log: { info: () => {}, warn: () => {}, error: (m) => process.stderr.write(`[demo] ${m}\n`) },
  });
}, 180_000);

afterAll(async () => {
  await running?.stop();
}, 120_000);

/** `npm run query -- --as <as> DocumentFetch --record <record>`, its output as text. */
async function documentFetch(as: string, record: keyof typeof demoRecords): Promise<string> {
  const parts: Buffer[] = [];
  const { Writable } = await import("node:stream");
  await fetchDocument(
    {
      as,
      patient: demoRecords[record].patient.address,
      recordId: demoRecords[record].id,
      out: undefined,
      gateway: running!.system.gatewayUrl,
    },
    () =>
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          parts.push(chunk);
          done();
        },
      }),
  );
  return Buffer.concat(parts).toString("utf8");
}

describe("seedDemo", () => {
  test("behavior: seeds the whole story once, records with real encrypted documents; a second run sends nothing", async () => {
    const { system, fixture } = running!;
    const rpcUrl = system.endpoints.rpcUrl;
    const deployment = system.deployment;
    const adminKey = fixture.admin!.privateKey;
    const options = { rpcUrl, deployment, adminKey, gatewayUrl: system.gatewayUrl };

    const first = await seedDemo(options);
    expect(first.transactions).toBe(26);
    const again = await seedDemo(options);
    expect(again.transactions).toBe(0);

    const client = createPublicClient({ transport: http(rpcUrl) });
    const identity = {
      address: deployment.contracts.IdentityRegistry.address,
      abi: identityRegistryAbi,
    } as const;
    expect(
      await client.readContract({
        ...identity,
        functionName: "isRegistrar",
        args: [demoAccounts.stMary.address],
      }),
    ).toBe(true);
    expect(
      await client.readContract({
        ...identity,
        functionName: "isVerifiedDoctor",
        args: [demoAccounts.drGrey.address],
      }),
    ).toBe(true);
    const alerts = await client.getContractEvents({
      address: deployment.contracts.VitalsMonitor.address,
      abi: vitalsMonitorAbi,
      eventName: "VitalsAlert",
      fromBlock: BigInt(deployment.startBlock),
    });
    expect(alerts.map((alert) => [alert.args.systolic, alert.args.diastolic])).toEqual([
      [168, 102],
      [85, 55],
    ]);
    expect(alerts[0]?.args.recipients).toEqual([demoAccounts.drHouse.address, demoAccounts.stMary.address]);
  }, 180_000);

  test("behavior: DocumentFetch decrypts the demo's documents as their readers; the revoked doctor gets nothing", async () => {
    expect(await documentFetch("dr-house", "consultation")).toBe(demoDocuments.consultation);
    expect(await documentFetch("alice", "consultationAmended")).toBe(demoDocuments.consultationAmended);
    expect(await documentFetch("acme-insurance", "labResult")).toBe(demoDocuments.labResult);
    expect(await documentFetch("dr-house", "upload")).toBe(demoDocuments.upload);
    expect(await documentFetch("bob", "prescription")).toBe(demoDocuments.prescription);
    // dr-grey held a key of the consultation until alice revoked her: the gateway serves neither.
    await expect(documentFetch("dr-grey", "consultation")).rejects.toMatchObject({ code: "FORBIDDEN" });
  }, 60_000);
});
