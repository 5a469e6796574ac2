// The X25519 key pair that documents are encrypted to, derived from a signature of a fixed message: the
// same wallet gives the same key on any device, and the secret never leaves the browser (memory only).
import { encryptionPublicKey } from "@carechain/documents/browser";
import { bytesToHex, type Hex, hexToBytes, keccak256 } from "viem";

export const ENCRYPTION_KEY_MESSAGE =
  "CareChain document key\n\nSigning this creates the key that encrypts your health documents. It sends no transaction and costs nothing.";

// Per account for this tab's life: opening a second document does not ask the wallet again.
const secrets = new Map<string, Uint8Array>();

export async function deriveEncryptionKey(
  address: string,
  sign: (message: string) => Promise<Hex>,
): Promise<{ publicKey: Hex; secretKey: Uint8Array }> {
  let secretKey = secrets.get(address.toLowerCase());
  if (!secretKey) {
    secretKey = hexToBytes(keccak256(await sign(ENCRYPTION_KEY_MESSAGE)));
    secrets.set(address.toLowerCase(), secretKey);
  }
  return { publicKey: bytesToHex(encryptionPublicKey(secretKey)), secretKey };
}
