// The X25519 key pair that documents are encrypted to, derived from a signature of a fixed message: the
// same wallet gives the same key on any device, and the secret never leaves the browser.
import { x25519 } from "@noble/curves/ed25519";
import { bytesToHex, type Hex, hexToBytes, keccak256 } from "viem";

export const ENCRYPTION_KEY_MESSAGE =
  "CareChain document key\n\nSigning this creates the key that encrypts your health documents. It sends no transaction and costs nothing.";

export async function deriveEncryptionKey(
  sign: (message: string) => Promise<Hex>,
): Promise<{ publicKey: Hex }> {
  const signature = await sign(ENCRYPTION_KEY_MESSAGE);
  const secret = hexToBytes(keccak256(signature));
  return { publicKey: bytesToHex(x25519.getPublicKey(secret)) };
}
