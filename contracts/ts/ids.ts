import { randomBytes } from "node:crypto";
import { bytesToHex, type Hex, keccak256, toBytes } from "viem";

/** A fresh random 32-byte record id (records are addressed by id, never by content). */
export function randomRecordId(): Hex {
  return bytesToHex(randomBytes(32));
}

/** A random non-zero 32-byte value: a stand-in for hashes and X25519 public keys in tests and seeders. */
export function randomBytes32(): Hex {
  return bytesToHex(randomBytes(32));
}

/** keccak256 of a UTF-8 string, e.g. the hash of an emergency reason kept off chain. */
export function hashText(text: string): Hex {
  return keccak256(toBytes(text));
}
