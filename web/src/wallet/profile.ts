// A profile's content stays off chain: the chain gets a salted hash only (a bare hash of a name could be
// guessed). The content and its salt are kept in this browser until profile documents are uploaded.
import { bytesToHex, type Hex, keccak256, toHex } from "viem";

export type Profile = { name: string; contact: string; specialty?: string; license?: string };

export function hashProfile(profile: Profile, salt: Hex = randomSalt()): { hash: Hex; salt: Hex } {
  return { hash: keccak256(toHex(JSON.stringify({ salt, ...profile }))), salt };
}

export function hashLicense(license: string, salt: Hex): Hex {
  return keccak256(toHex(JSON.stringify({ salt, license })));
}

/** A break-glass reason: on chain as a salted hash only (it may name the patient's condition). */
export function hashReason(reason: string, salt: Hex = randomSalt()): { hash: Hex; salt: Hex } {
  return { hash: keccak256(toHex(JSON.stringify({ salt, reason }))), salt };
}

function randomSalt(): Hex {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
}

export function keepProfileLocally(address: string, profile: Profile, salt: Hex): void {
  localStorage.setItem(`carechain.profile.${address.toLowerCase()}`, JSON.stringify({ profile, salt }));
}
