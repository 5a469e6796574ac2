import { recordAuthorizationTypedData } from "@carechain/contracts/record-authorization";
import { type Hex, zeroHash } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, test } from "vitest";
import { parseSignedAuthorization, serializeSignedAuthorization } from "./signed-authorization.ts";

const domain = { chainId: 31337, recordRegistry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" } as const;
const doctor = privateKeyToAccount(generatePrivateKey());
const id = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;

async function signedText(overrides: { chainId?: number } = {}) {
  const authorization = {
    patient: privateKeyToAccount(generatePrivateKey()).address,
    recordId: id(1),
    recordType: 1,
    contentHash: id(2),
    storagePointer: "0x0102" as Hex,
    previousRecordId: zeroHash,
    author: doctor.address,
    nonce: 3n,
    deadline: 1_900_000_000n,
  };
  const chainId = overrides.chainId ?? domain.chainId;
  const signature = await doctor.signTypedData(
    recordAuthorizationTypedData(chainId, domain.recordRegistry, authorization),
  );
  return {
    authorization,
    text: serializeSignedAuthorization({ ...domain, chainId }, { authorization, signature }),
  };
}

describe("signed record authorizations", () => {
  test("default: what the doctor signed reads back, bigints included, and recovers to its author", async () => {
    const { authorization, text } = await signedText();
    const parsed = await parseSignedAuthorization(text, domain);
    expect(parsed.authorization).toEqual(authorization);
  });

  test("error: a text changed after signing is refused: the signature is not the author's", async () => {
    const { text } = await signedText();
    const changed = text.replace('"recordType": 1', '"recordType": 2');
    expect(changed).not.toBe(text);
    await expect(parseSignedAuthorization(changed, domain)).rejects.toThrow(
      /not made by the doctor it names/,
    );
  });

  test("error: signed for another chain: refused before any check of the signature", async () => {
    const { text } = await signedText({ chainId: 1 });
    await expect(parseSignedAuthorization(text, domain)).rejects.toThrow(/another CareChain network/);
  });

  test("error: not an authorization at all (half pasted, other JSON)", async () => {
    const { text } = await signedText();
    await expect(parseSignedAuthorization(text.slice(0, 40), domain)).rejects.toThrow(/paste the whole text/);
    await expect(parseSignedAuthorization('{"kind":"x"}', domain)).rejects.toThrow(/paste the whole text/);
  });
});
