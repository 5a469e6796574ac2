// A profile (name, contact, specialty, licence) is an encrypted document like a record's: encrypted in this
// browser with @carechain/documents' format, its key wrapped for the owner's registered X25519 key only,
// stored by the gateway under the owner's address, and on chain only the ciphertext's SHA-256 (profileHash).
// The ciphertext is unguessable (a fresh random key), so its hash needs no salt.
import { DecodeError } from "@carechain/common/errors";
import { DocumentsRequestError, IntegrityError } from "@carechain/documents/browser";
import { bytesToHex, type Hex, keccak256, toHex } from "viem";
import {
  type DocumentReader,
  documentMessage,
  fetchDocument,
  type Gateway,
  type SealedDocument,
  sealDocument,
  storeDocument,
  unsealDocument,
} from "../documents.ts";

export type Profile = {
  name: string;
  contact: string;
  specialty?: string;
  license?: string;
  /** The salt of the doctor's licenceHash on chain, so that its owner can show the hash is of this licence. */
  licenseSalt?: string;
};
const fields = ["name", "contact", "specialty", "license", "licenseSalt"] as const;

export function profileBytes(profile: Profile): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(profile));
}

/** The profile in a decrypted document; checked by hand: zod would add 23 KB gzip to the page. */
export function profileFromBytes(bytes: Uint8Array): Profile {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new DecodeError("The profile document is not a profile.", { cause });
  }
  const record = (json ?? {}) as Record<string, unknown>;
  const valid =
    typeof json === "object" &&
    typeof record.name === "string" &&
    record.name.length > 0 &&
    typeof record.contact === "string" &&
    fields.every((field) => record[field] === undefined || typeof record[field] === "string");
  if (!valid) throw new DecodeError("The profile document is not a profile.");
  const profile: Profile = { name: record.name as string, contact: record.contact as string };
  for (const field of ["specialty", "license", "licenseSalt"] as const)
    if (typeof record[field] === "string") profile[field] = record[field];
  return profile;
}

/** The profile encrypted for its owner alone: only the owner's registered key unwraps it. */
export function sealProfile(profile: Profile, owner: DocumentReader): Promise<SealedDocument> {
  return sealDocument(profileBytes(profile), [owner]);
}

/**
 * Stores the sealed profile with the gateway's documents, filed under its owner's address (any registered
 * account may store its own profile document), or throws: the page says why (profileMessage).
 */
export async function storeProfile(
  gateway: Gateway,
  { owner, sealed }: { owner: string; sealed: SealedDocument },
): Promise<void> {
  await storeDocument(gateway, { patient: owner, sealed });
}

/**
 * The profile whose document has `profileHash` (read on chain), from the gateway; other bytes are refused
 * (IntegrityError) before anything is decrypted.
 */
export async function openProfile(
  gateway: Gateway,
  options: { owner: string; profileHash: Hex; secretKey: Uint8Array },
): Promise<Profile> {
  const { owner, profileHash, secretKey } = options;
  let fetched: { ciphertext: Uint8Array; wrappedKey: string | null };
  try {
    fetched = await fetchDocument(gateway, profileHash);
  } catch (error) {
    // The gateway answers FORBIDDEN for a hash it does not hold (the same as for one the caller may not
    // read: it says no more), NOT_FOUND when its store lost the ciphertext. An owner may always read its own
    // profile document, so either means CareChain does not hold it for this owner.
    const missing =
      error instanceof DocumentsRequestError && (error.code === "FORBIDDEN" || error.code === "NOT_FOUND");
    if (!missing) throw error;
    throw new DocumentsRequestError(404, "NO_PROFILE", "No document with your profile's hash was found.");
  }
  const plain = await unsealDocument({ ...fetched, contentHash: profileHash, reader: owner, secretKey });
  return profileFromBytes(plain);
}

/** A profile error as a sentence that says what happened and what to do. */
export function profileMessage(error: unknown): string {
  if (error instanceof IntegrityError)
    return "Your profile document was changed and was not opened: its bytes do not match the profile hash on chain. Save your profile again to replace it.";
  if (error instanceof DocumentsRequestError && error.code === "NO_PROFILE")
    return "Your profile document was not found in CareChain (the chain names a document CareChain does not hold for you): fill in your profile and save it again.";
  if (error instanceof DecodeError) return `${error.shortMessage} Save your profile again to replace it.`;
  return documentMessage(error);
}

export function hashLicense(license: string, salt: Hex): Hex {
  return keccak256(toHex(JSON.stringify({ salt, license })));
}

/** A break-glass reason: on chain as a salted hash only (it may name the patient's condition). */
export function hashReason(reason: string, salt: Hex = randomSalt()): { hash: Hex; salt: Hex } {
  return { hash: keccak256(toHex(JSON.stringify({ salt, reason }))), salt };
}

export function randomSalt(): Hex {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
}
