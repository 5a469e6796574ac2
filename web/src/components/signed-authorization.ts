// A doctor's EIP-712 record authorization as the text handed to the hospital (JSON: uint256 as decimal
// strings), and the hospital's checks before it relays it with `addRecordBySig`: the right chain and
// contract, a signature by the named author, and (on chain) the author's next nonce and a future deadline.
import {
  type RecordAuthorization,
  recordAuthorizationTypedData,
  type SignedRecordAuthorization,
} from "@carechain/contracts/record-authorization";
import { type Address, type Hex, isAddress, isAddressEqual, isHex, recoverTypedDataAddress } from "viem";

/** Where a signature is valid: the chain and the RecordRegistry of the EIP-712 domain. */
export type AuthorizationDomain = { chainId: number; recordRegistry: Address };

type Wire = {
  kind: "CareChain record authorization";
  chainId: number;
  recordRegistry: Address;
  authorization: Omit<RecordAuthorization, "nonce" | "deadline"> & { nonce: string; deadline: string };
  signature: Hex;
};

export class AuthorizationTextError extends Error {}

export function serializeSignedAuthorization(domain: AuthorizationDomain, signed: SignedRecordAuthorization) {
  const wire: Wire = {
    kind: "CareChain record authorization",
    chainId: domain.chainId,
    recordRegistry: domain.recordRegistry,
    authorization: {
      ...signed.authorization,
      nonce: signed.authorization.nonce.toString(),
      deadline: signed.authorization.deadline.toString(),
    },
    signature: signed.signature,
  };
  return JSON.stringify(wire, null, 2);
}

const bytes32 = (value: unknown): value is Hex => isHex(value) && value.length === 66;
const decimal = (value: unknown): value is string => typeof value === "string" && /^\d{1,78}$/.test(value);

/**
 * The signed authorization in `text`, checked offline: its form, its domain against `expected`, and that its
 * signature recovers to its author. Throws AuthorizationTextError with a sentence for a person.
 */
export async function parseSignedAuthorization(
  text: string,
  expected: AuthorizationDomain,
): Promise<SignedRecordAuthorization> {
  let wire: Partial<Wire>;
  try {
    wire = JSON.parse(text) as Partial<Wire>;
  } catch {
    throw new AuthorizationTextError("This is not a signed record authorization: paste the whole text.");
  }
  const a = wire?.authorization;
  if (
    wire?.kind !== "CareChain record authorization" ||
    !a ||
    !isAddress(a.patient) ||
    !isAddress(a.author) ||
    !bytes32(a.recordId) ||
    !bytes32(a.contentHash) ||
    !bytes32(a.previousRecordId) ||
    !isHex(a.storagePointer) ||
    !Number.isInteger(a.recordType) ||
    !decimal(a.nonce) ||
    !decimal(a.deadline) ||
    !isHex(wire.signature)
  )
    throw new AuthorizationTextError("This is not a signed record authorization: paste the whole text.");
  if (
    wire.chainId !== expected.chainId ||
    !isAddress(wire.recordRegistry ?? "") ||
    !isAddressEqual(wire.recordRegistry as Address, expected.recordRegistry)
  )
    throw new AuthorizationTextError(
      "This authorization was signed for another CareChain network or contract: the doctor must sign it here.",
    );
  const authorization: RecordAuthorization = {
    patient: a.patient,
    recordId: a.recordId,
    recordType: a.recordType,
    contentHash: a.contentHash,
    storagePointer: a.storagePointer,
    previousRecordId: a.previousRecordId,
    author: a.author,
    nonce: BigInt(a.nonce),
    deadline: BigInt(a.deadline),
  };
  let signer: Address;
  try {
    signer = await recoverTypedDataAddress({
      ...recordAuthorizationTypedData(expected.chainId, expected.recordRegistry, authorization),
      signature: wire.signature,
    });
  } catch {
    throw new AuthorizationTextError("The signature is malformed: ask the doctor to sign again.");
  }
  if (!isAddressEqual(signer, authorization.author))
    throw new AuthorizationTextError(
      "The signature was not made by the doctor it names (the text was changed after signing): nothing was sent.",
    );
  return { authorization, signature: wire.signature };
}
