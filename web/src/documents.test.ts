// Sharing a patient's documents with a grantee, in memory: a fake gateway (fetch) that lists documents and
// stores posted keys. The encryption and key wrapping are the real ones (@carechain/documents/browser).
import { encryptionPublicKey } from "@carechain/documents/browser";
import { bytesToHex, type Hex } from "viem";
import { afterEach, describe, expect, test, vi } from "vitest";
import {
  documentMessage,
  type ListedDocument,
  sealDocument,
  shareDocuments,
  unsealDocument,
} from "./documents.ts";

const patient = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
const grantee = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";
const gateway = { gatewayUrl: "http://gateway.test", token: "t" };

function keyPair() {
  const secretKey = crypto.getRandomValues(new Uint8Array(32));
  return { secretKey, encryptionKey: bytesToHex(encryptionPublicKey(secretKey)) as string };
}

/** Lists `documents` as `GET /documents?patient=` does and keeps the keys posted per document. */
function fakeGateway(documents: ListedDocument[]) {
  const posted = new Map<string, { reader: string; wrappedKey: string }[]>();
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    const { pathname } = new URL(url);
    if (init.method === "POST" && pathname.endsWith("/keys")) {
      const { keys } = JSON.parse(String(init.body)) as { keys: { reader: string; wrappedKey: string }[] };
      posted.set(pathname.split("/")[2]!, keys);
      return Response.json({ stored: keys.map((k) => k.reader) });
    }
    return Response.json({ documents });
  });
  return posted;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("shareDocuments", () => {
  test("default: each document's key is wrapped for the grantee, who opens it; skipped ones are not sent", async () => {
    const own = keyPair();
    const reader = keyPair();
    const sealed = await sealDocument(new TextEncoder().encode("a note"), [{ address: patient, ...own }]);
    const profile = await sealDocument(new TextEncoder().encode("my name"), [{ address: patient, ...own }]);
    const listed = (s: typeof sealed): ListedDocument => ({
      contentHash: s.contentHash,
      author: patient,
      wrappedKey: s.keys[0]!.wrappedKey,
    });
    const posted = fakeGateway([listed(sealed), listed(profile)]);
    const progress: string[] = [];
    const shared = await shareDocuments(gateway, {
      patient,
      secretKey: async () => own.secretKey,
      grantee: { address: grantee, ...reader },
      skip: (hash) => hash === profile.contentHash,
      onProgress: ({ shared, total }) => progress.push(`${shared} of ${total}`),
    });
    expect(shared).toEqual([sealed.contentHash]);
    expect(progress).toEqual(["0 of 1", "1 of 1"]);
    expect([...posted.keys()]).toEqual([sealed.contentHash]);
    const [key] = posted.get(sealed.contentHash)!;
    expect(key!.reader).toBe(grantee.toLowerCase());
    const plain = await unsealDocument({
      ciphertext: sealed.ciphertext,
      wrappedKey: key!.wrappedKey,
      contentHash: sealed.contentHash,
      reader: grantee,
      secretKey: reader.secretKey,
    });
    expect(new TextDecoder().decode(plain)).toBe("a note");
  });

  test("behavior: nothing to share asks no wallet and posts nothing", async () => {
    const posted = fakeGateway([
      { contentHash: `0x${"ab".repeat(32)}` as Hex, author: grantee, wrappedKey: null },
    ]);
    const unlock = vi.fn(async () => keyPair().secretKey);
    expect(
      await shareDocuments(gateway, {
        patient,
        secretKey: unlock,
        grantee: { address: grantee, ...keyPair() },
      }),
    ).toEqual([]);
    expect(unlock).not.toHaveBeenCalled();
    expect(posted.size).toBe(0);
  });

  test("error: a key wrapped for another key of the patient stops the sharing in words, nothing posted", async () => {
    const sealed = await sealDocument(new TextEncoder().encode("a note"), [
      { address: patient, ...keyPair() },
    ]);
    const posted = fakeGateway([
      { contentHash: sealed.contentHash, author: patient, wrappedKey: sealed.keys[0]!.wrappedKey },
    ]);
    const error = await shareDocuments(gateway, {
      patient,
      secretKey: async () => keyPair().secretKey,
      grantee: { address: grantee, ...keyPair() },
    }).catch((e: unknown) => e);
    expect(documentMessage(error)).toBe(
      "The document's key does not open with your key: it was wrapped for another key of yours.",
    );
    expect(posted.size).toBe(0);
  });
});
