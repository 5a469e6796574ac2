// The profile document, end to end in memory: a fake gateway (fetch) that stores what is posted. The
// encryption, hashes and key wrapping are the real ones.
import { DecodeError } from "@carechain/common/errors";
import { DocumentsRequestError, encryptionPublicKey, IntegrityError } from "@carechain/documents/browser";
import { bytesToHex, type Hex } from "viem";
import { afterEach, describe, expect, test, vi } from "vitest";
import {
  openProfile,
  type Profile,
  profileFromBytes,
  profileMessage,
  sealProfile,
  storeProfile,
} from "./profile.ts";

const owner = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
const gateway = { gatewayUrl: "http://gateway.test", token: "t" };
const profile: Profile = { name: "Ada Example", contact: "ada@example.org", specialty: "Cardiology" };

function keyPair() {
  const secretKey = crypto.getRandomValues(new Uint8Array(32));
  return { secretKey, encryptionKey: bytesToHex(encryptionPublicKey(secretKey)) as string };
}

const refused = (code: string, status: number) =>
  new Response(JSON.stringify({ error: { code, message: "No." } }), { status });

/**
 * A gateway holding documents by hash with the owner's wrapped key; `accept: false` refuses uploads as an
 * unregistered account's. An unknown hash gets FORBIDDEN as the real gateway answers (or `missing`: NOT_FOUND
 * is its answer for a document whose ciphertext its store lost).
 */
function fakeGateway({
  accept,
  serve = (b: Uint8Array) => b,
  missing = "FORBIDDEN",
}: {
  accept: boolean;
  serve?: typeof identity;
  missing?: "FORBIDDEN" | "NOT_FOUND";
}) {
  const blobs = new Map<string, Uint8Array>();
  const keys = new Map<string, string>();
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    const path = new URL(url).pathname;
    if (init.method === "POST" && path === "/documents") {
      if (!accept) return refused("FORBIDDEN", 403);
      const body = init.body as Uint8Array;
      const hash = await sha256(body);
      blobs.set(hash, body);
      return Response.json({ contentHash: hash, pointer: `p:${hash}`, size: body.length }, { status: 201 });
    }
    if (init.method === "POST" && path.endsWith("/keys")) {
      const hash = path.split("/")[2]!;
      const sent = JSON.parse(String(init.body)) as { keys: { reader: string; wrappedKey: string }[] };
      for (const key of sent.keys) keys.set(`${hash}|${key.reader}`, key.wrappedKey);
      return Response.json({ contentHash: hash, stored: sent.keys.map((k) => k.reader) });
    }
    const hash = path.split("/")[2]!;
    const blob = blobs.get(hash);
    if (!blob) return refused(missing, missing === "FORBIDDEN" ? 403 : 404);
    const wrapped = keys.get(`${hash}|${owner.toLowerCase()}`);
    return new Response(serve(blob) as Uint8Array<ArrayBuffer>, {
      headers: wrapped ? { "x-carechain-wrapped-key": wrapped } : {},
    });
  });
  return { blobs };
}
const identity = (b: Uint8Array) => b;
const sha256 = async (b: Uint8Array) =>
  bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>)));

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("profile documents", () => {
  test("default: sealed for the owner, stored, opened with the chain's hash; only ciphertext leaves", async () => {
    const { secretKey, encryptionKey } = keyPair();
    const { blobs } = fakeGateway({ accept: true });
    const sealed = await sealProfile(profile, { address: owner, encryptionKey });
    await storeProfile(gateway, { owner, sealed });
    const stored = blobs.get(sealed.contentHash)!;
    expect(await sha256(stored)).toBe(sealed.contentHash);
    expect(new TextDecoder().decode(stored)).not.toContain("Ada");
    expect(await openProfile(gateway, { owner, profileHash: sealed.contentHash, secretKey })).toEqual(
      profile,
    );
  });

  test("error: a profile the gateway refuses is not stored anywhere: storeProfile throws", async () => {
    const { encryptionKey } = keyPair();
    const { blobs } = fakeGateway({ accept: false });
    vi.stubGlobal("localStorage", undefined); // the browser's storage is not touched
    const sealed = await sealProfile(profile, { address: owner, encryptionKey });
    const error = await storeProfile(gateway, { owner, sealed }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DocumentsRequestError);
    expect((error as DocumentsRequestError).code).toBe("FORBIDDEN");
    expect(blobs.size).toBe(0);
  });

  test("error: bytes other than the chain's hash are refused before decrypting", async () => {
    const { secretKey, encryptionKey } = keyPair();
    fakeGateway({
      accept: true,
      serve: (b) => {
        const changed = b.slice();
        changed[changed.length - 1]! ^= 1;
        return changed;
      },
    });
    const sealed = await sealProfile(profile, { address: owner, encryptionKey });
    await storeProfile(gateway, { owner, sealed });
    const error = await openProfile(gateway, { owner, profileHash: sealed.contentHash, secretKey }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(IntegrityError);
    expect(profileMessage(error)).toMatch(/^Your profile document was changed and was not opened/);
  });

  test.each(["FORBIDDEN", "NOT_FOUND"] as const)(
    "error: a hash the gateway does not hold (%s) is no profile, said so",
    async (missing) => {
      const { secretKey } = keyPair();
      fakeGateway({ accept: true, missing });
      const profileHash = `0x${"ab".repeat(32)}` as Hex;
      const error = await openProfile(gateway, { owner, profileHash, secretKey }).catch((e: unknown) => e);
      expect((error as DocumentsRequestError).code).toBe("NO_PROFILE");
      expect(profileMessage(error)).toMatch(/^Your profile document was not found in CareChain/);
    },
  );

  test("error: another key does not open it", async () => {
    const { encryptionKey } = keyPair();
    fakeGateway({ accept: true });
    const sealed = await sealProfile(profile, { address: owner, encryptionKey });
    await storeProfile(gateway, { owner, sealed });
    const other = keyPair().secretKey;
    await expect(
      openProfile(gateway, { owner, profileHash: sealed.contentHash, secretKey: other }),
    ).rejects.toThrow();
  });

  test("args: bytes that are not a profile are refused as such", () => {
    expect(() => profileFromBytes(new TextEncoder().encode('{"contact":"x"}'))).toThrow(DecodeError);
    expect(() => profileFromBytes(new Uint8Array([0xff, 0xfe]))).toThrow(DecodeError);
    expect(profileFromBytes(new TextEncoder().encode('{"name":"A","contact":""}'))).toEqual({
      name: "A",
      contact: "",
    });
  });
});
