import { NonRetryableError } from "@carechain/common/errors";
import { gcm } from "@noble/ciphers/aes";
import { randomBytes } from "@noble/ciphers/webcrypto";
import { x25519 } from "@noble/curves/ed25519";
import { hkdf } from "@noble/hashes/hkdf";
import { sha256 } from "@noble/hashes/sha2";
import { hexToBytes } from "@noble/hashes/utils";

/**
 * A document key wrapped for one reader (93 bytes):
 *
 *   version 1 (1) | ephemeral X25519 public key (32) | nonce (12) | AES-256-GCM(document key) + tag (48)
 *
 * wrapping key = HKDF-SHA256(ikm = X25519(ephemeral secret, reader public key),
 *                            salt = ephemeral public | reader public, info = "carechain/documents/key-wrap/v1")
 * associated data = "carechain/documents/key-wrap/v1" | reader address (lower case, 20 bytes) | content hash (32)
 */
export const wrappedKeySize = 93;
const info = new TextEncoder().encode("carechain/documents/key-wrap/v1");

export type EncryptionKeyPair = { secretKey: Uint8Array; publicKey: Uint8Array };

/** A new X25519 key pair: the public key is what an account registers on chain as `encryptionKey`. */
export function generateEncryptionKeyPair(): EncryptionKeyPair {
  const secretKey = x25519.utils.randomPrivateKey();
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/**
 * An X25519 key pair derived from a 32-byte seed (HKDF-SHA256, its own info string, so the seed's other
 * uses are unaffected). For accounts whose keys are public anyway (the demo's anvil accounts): a real
 * account keeps a random secret (generateEncryptionKeyPair), not one its wallet key can recompute.
 */
export function deriveEncryptionKeyPair(seed: Uint8Array): EncryptionKeyPair {
  if (seed.length !== 32) throw new TypeError("The seed of an encryption key has 32 bytes.");
  const secretKey = hkdf(sha256, seed, undefined, "carechain/documents/encryption-key/v1", 32);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

export function encryptionPublicKey(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey);
}

function hexBytes(value: string, size: number, what: string): Uint8Array {
  if (!new RegExp(`^0x[0-9a-fA-F]{${size * 2}}$`).test(value)) throw new TypeError(`Bad ${what}: ${value}`);
  return hexToBytes(value.slice(2));
}

function associatedData(reader: string, contentHash: string): Uint8Array {
  const address = hexBytes(reader.toLowerCase(), 20, "reader address");
  const hash = hexBytes(contentHash.toLowerCase(), 32, "content hash");
  const aad = new Uint8Array(info.length + 52);
  aad.set(info, 0);
  aad.set(address, info.length);
  aad.set(hash, info.length + 20);
  return aad;
}

function wrappingKey(shared: Uint8Array, ephemeralPublic: Uint8Array, readerPublic: Uint8Array) {
  const salt = new Uint8Array(64);
  salt.set(ephemeralPublic, 0);
  salt.set(readerPublic, 32);
  return hkdf(sha256, shared, salt, info, 32);
}

/** Wraps `documentKey` for `reader` (its address and registered X25519 public key) and one document. */
export function wrapKey(options: {
  documentKey: Uint8Array;
  reader: string;
  readerPublicKey: Uint8Array;
  contentHash: string;
}): Uint8Array {
  const { documentKey, readerPublicKey } = options;
  if (documentKey.length !== 32 || readerPublicKey.length !== 32) throw new TypeError("Keys have 32 bytes.");
  const ephemeral = x25519.utils.randomPrivateKey();
  const ephemeralPublic = x25519.getPublicKey(ephemeral);
  const shared = x25519.getSharedSecret(ephemeral, readerPublicKey);
  const key = wrappingKey(shared, ephemeralPublic, readerPublicKey);
  const nonce = randomBytes(12);
  const sealed = gcm(key, nonce, associatedData(options.reader, options.contentHash)).encrypt(documentKey);
  const out = new Uint8Array(wrappedKeySize);
  out[0] = 1;
  out.set(ephemeralPublic, 1);
  out.set(nonce, 33);
  out.set(sealed, 45);
  return out;
}

/** Opens a wrapped key with the reader's X25519 secret key; NonRetryableError when anything does not match. */
export function unwrapKey(options: {
  wrapped: Uint8Array;
  reader: string;
  readerSecretKey: Uint8Array;
  contentHash: string;
}): Uint8Array {
  const { wrapped, readerSecretKey } = options;
  if (wrapped.length !== wrappedKeySize || wrapped[0] !== 1)
    throw new NonRetryableError("Not a wrapped document key (bad size or version).");
  const aad = associatedData(options.reader, options.contentHash);
  try {
    const ephemeralPublic = wrapped.slice(1, 33);
    const readerPublic = x25519.getPublicKey(readerSecretKey);
    const shared = x25519.getSharedSecret(readerSecretKey, ephemeralPublic);
    const key = wrappingKey(shared, ephemeralPublic, readerPublic);
    return gcm(key, wrapped.slice(33, 45), aad).decrypt(wrapped.slice(45));
  } catch (error) {
    throw new NonRetryableError("The document key cannot be unwrapped with this key.", {
      details: "Wrong secret key, reader address or content hash, or the wrapped key was changed.",
      cause: error,
    });
  }
}
