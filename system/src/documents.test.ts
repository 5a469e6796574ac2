// A record with a document, end to end through the chain: the client encrypts and uploads to the gateway
// (a process of its own, as `npm start` runs it, with the filesystem store under the system's data folder),
// writes the record on chain with the document's hash, waits until ingest → Kafka → projector make it
// visible through the gateway, and readers download, verify against the on-chain hash and decrypt. Lean on
// purpose: one system, a handful of accounts.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ALL_SCOPES, recordTypes, scopes } from "@carechain/contracts";
import type { Actor } from "@carechain/contracts/testing";
import {
  DocumentsClient,
  DocumentsRequestError,
  deriveEncryptionKeyPair,
  IntegrityError,
  wrappedKeyHeader,
} from "@carechain/documents";
import { signIn } from "@carechain/gateway/client";
import { hexToBytes, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually, startTestSystem, type TestSystem } from "./testing.ts";

const MiB = 1024 * 1024;
let running: TestSystem | undefined;
let author: Actor;
let patient: Actor;
let reader: Actor;
let hospital: Actor;
const clients = new Map<Actor, DocumentsClient>();
let documentsDir: string;

/** The actor's X25519 key, registered on chain as its `encryptionKey` (derived from its test key). */
const keyPairOf = (actor: Actor) => deriveEncryptionKeyPair(hexToBytes(actor.privateKey));

async function clientOf(actor: Actor): Promise<DocumentsClient> {
  let client = clients.get(actor);
  if (!client) {
    const { token } = await signIn({
      url: running!.system.gatewayUrl,
      account: privateKeyToAccount(actor.privateKey),
    });
    client = new DocumentsClient({
      gatewayUrl: running!.system.gatewayUrl,
      token,
      address: actor.address,
      secretKey: keyPairOf(actor).secretKey,
    });
    clients.set(actor, client);
  }
  return client;
}

async function text(source: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(Buffer.from(part));
  return Buffer.concat(parts).toString("utf8");
}

/** Peak resident memory of a process since the last reset (Linux: VmHWM, reset through clear_refs). */
const peakRss = (pid: number) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
const currentRss = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;

beforeAll(async () => {
  running = await startTestSystem({
    label: "docs",
    log: { info: () => {}, warn: () => {}, error: (m) => process.stderr.write(`[documents] ${m}\n`) },
  });
  const { fixture, system } = running;
  documentsDir = join(dirname(system.logsDir), "documents");
  [author, patient, reader, hospital] = await Promise.all([
    fixture.createActor("verifiedDoctor"),
    fixture.createActor("patient"),
    fixture.createActor("verifiedDoctor"),
    fixture.createActor("hospital"),
  ]);
  await Promise.all(
    [author, patient, reader, hospital].map((actor) =>
      actor.client.updateProfile({
        profileHash: actor.profileHash,
        encryptionKey: toHex(keyPairOf(actor).publicKey),
      }),
    ),
  );
  await patient.client.grantAccess({ grantee: author.address, scopes: ALL_SCOPES });
  await patient.client.grantAccess({ grantee: reader.address, scopes: scopes.READ_RECORDS });
  await system.waitForCatchUp(60_000);
}, 180_000);

afterAll(async () => {
  await running?.stop();
}, 120_000);

describe("a record with its document, through the chain", () => {
  let recordId: `0x${string}`;
  let contentHash: `0x${string}`;

  test("default: the author's one call encrypts, uploads, writes addRecord and waits; the patient and a reader decrypt what the chain names", async () => {
    const doctor = await clientOf(author);
    const note = "consultation: blood pressure 128/82, follow-up in 3 months";
    ({ recordId, contentHash } = await doctor.addRecordWithDocument({
      patient: patient.address,
      recordType: recordTypes.consultationNote,
      source: [Buffer.from(note)],
      write: { author: author.client },
      readers: [reader.address],
    }));
    // On chain: the document's hash. Through the gateway: Record.document names the same blob.
    const onChain = await author.client.read.recordRegistry.read.recordOf([recordId]);
    expect(onChain[3]).toBe(contentHash);
    expect((await doctor.findRecord(patient.address, recordId))?.document?.contentHash).toBe(contentHash);
    // The store holds ciphertext only, under the system's data folder.
    expect(
      readFileSync(join(documentsDir, "blobs", contentHash.slice(2))).includes(Buffer.from("blood")),
    ).toBe(false);
    expect(await text(await (await clientOf(patient)).download({ patient: patient.address, recordId }))).toBe(
      note,
    );
    expect(
      await text(
        await (await clientOf(reader)).download({ patient: patient.address, recordId, chain: reader.client }),
      ),
    ).toBe(note);
  });

  test("behavior: the patient shares its documents with a later grantee, named by address (its key from the identity projections)", async () => {
    await patient.client.grantAccess({ grantee: hospital.address, scopes: scopes.READ_RECORDS });
    const hospitalClient = await clientOf(hospital);
    // No key for the hospital yet: the author wrapped for the patient, itself and the reader only.
    await eventually("the hospital's grant indexed", async () =>
      (await hospitalClient.findRecord(patient.address, recordId).catch(() => undefined)) ? true : undefined,
    );
    await expect(hospitalClient.download({ patient: patient.address, recordId })).rejects.toMatchObject({
      code: "NO_KEY",
    });
    expect(await (await clientOf(patient)).shareDocumentsWith(hospital.address)).toContain(contentHash);
    expect(await text(await hospitalClient.download({ patient: patient.address, recordId }))).toMatch(
      /^consultation: blood pressure/,
    );
  });

  test("behavior: the EIP-712 form: the author signs, a hospital relays addRecordBySig", async () => {
    const doctor = await clientOf(author);
    const relayed = await doctor.addRecordWithDocument({
      patient: patient.address,
      recordType: recordTypes.labResult,
      source: [Buffer.from("HbA1c 5.4 %")],
      write: { author: author.client, relayer: hospital.client },
    });
    const [, onChainAuthor, , hash] = await author.client.read.recordRegistry.read.recordOf([
      relayed.recordId,
    ]);
    expect([onChainAuthor.toLowerCase(), hash]).toEqual([author.address.toLowerCase(), relayed.contentHash]);
    expect(
      await text(
        await (await clientOf(patient)).download({ patient: patient.address, recordId: relayed.recordId }),
      ),
    ).toBe("HbA1c 5.4 %");
  });

  test("error: a store copy changed after the fact is refused against the on-chain hash (IntegrityError)", async () => {
    const doctor = await clientOf(author);
    const tampered = await doctor.addRecordWithDocument({
      patient: patient.address,
      recordType: recordTypes.imaging,
      source: [Buffer.from("imaging report: no findings")],
      write: { author: author.client },
    });
    const path = join(documentsDir, "blobs", tampered.contentHash.slice(2));
    const blob = readFileSync(path);
    blob[blob.length - 3]! ^= 1;
    writeFileSync(path, blob);
    const patientClient = await clientOf(patient);
    for (const chain of [undefined, patient.client])
      await expect(
        patientClient.download({ patient: patient.address, recordId: tampered.recordId, chain }),
      ).rejects.toBeInstanceOf(IntegrityError);
  });

  test("error: once the revocation is indexed, the revoked reader gets neither bytes nor key", async () => {
    const readerClient = await clientOf(reader);
    const { token } = await signIn({
      url: running!.system.gatewayUrl,
      account: privateKeyToAccount(reader.privateKey),
    });
    const get = (path: string) =>
      fetch(`${running!.system.gatewayUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await get(`/documents/${contentHash}/key`)).status).toBe(200);
    await patient.client.revokeAccess({ grantee: reader.address });
    await eventually("the reader refused after the revocation", async () => {
      const response = await get(`/documents/${contentHash}/key`);
      await response.body?.cancel();
      return response.status === 403 ? true : undefined;
    });
    for (const path of [`/documents/${contentHash}`, `/documents/${contentHash}/key`]) {
      const response = await get(path);
      const body = Buffer.from(await response.arrayBuffer());
      expect(response.status, path).toBe(403);
      expect(response.headers.get(wrappedKeyHeader), path).toBeNull();
      expect(JSON.parse(body.toString("utf8")).error.code, path).toBe("FORBIDDEN");
    }
    // The record itself is out of reach too, whether looked up through the gateway or read from the chain.
    await expect(readerClient.download({ patient: patient.address, recordId })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    const byChain = await readerClient
      .download({ patient: patient.address, recordId, chain: reader.client })
      .catch((error: unknown) => error);
    expect(byChain).toBeInstanceOf(DocumentsRequestError);
    expect(byChain).toMatchObject({ status: 403, code: "FORBIDDEN" });
  });
});

describe("a 64 MiB document", () => {
  test("behavior: the gateway process streams it both ways: its peak memory grows by less than 48 MiB", async () => {
    const gateway = running!.system.services.find((service) => service.name === "gateway")!.process.pid;
    const doctor = await clientOf(author);
    const size = 64 * MiB;
    const before = currentRss(gateway);
    writeFileSync(`/proc/${gateway}/clear_refs`, "5"); // peak RSS := current RSS
    const started = performance.now();
    const { recordId } = await doctor.addRecordWithDocument({
      patient: patient.address,
      recordType: recordTypes.imaging,
      source: (async function* () {
        for (let offset = 0; offset < size; offset += 256 * 1024)
          yield Buffer.alloc(256 * 1024, offset % 251);
      })(),
      write: { author: author.client },
    });
    let received = 0;
    for await (const part of await (await clientOf(patient)).download({ patient: patient.address, recordId }))
      received += part.length;
    const growth = (peakRss(gateway) - before) / MiB;
    console.log(
      `64 MiB through the gateway process: ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
        `its peak rss grew by ${growth.toFixed(1)} MiB (from ${(before / MiB).toFixed(0)} MiB)`,
    );
    expect(received).toBe(size);
    // Buffering either body whole would add at least 64 MiB.
    expect(growth).toBeLessThan(48);
  }, 120_000);
});
