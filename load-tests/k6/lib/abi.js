// Just enough ABI for the legacy reads and the writes: 32-byte words, addresses, unsigned integers.
import crypto from "k6/crypto";

export function word(hex) {
  return hex.padStart(64, "0");
}
export function address(value) {
  return word(value.slice(2).toLowerCase());
}
export function uint(n) {
  return word(Number(n).toString(16));
}
/** An indexed address as a log topic. */
export function topicOf(value) {
  return `0x${address(value)}`;
}
/** The 32-byte words of a hex result ("0x..."). */
export function words(hex) {
  const body = (hex || "0x").slice(2);
  const out = [];
  for (let i = 0; i + 64 <= body.length; i += 64) out.push(body.slice(i, i + 64));
  return out;
}
export function toNumber(w) {
  return w === undefined ? 0 : Number.parseInt(w, 16);
}
export function toAddress(w) {
  return `0x${(w || "").slice(24)}`;
}
export function randomHex(bytes) {
  const view = new Uint8Array(crypto.randomBytes(bytes));
  let out = "";
  for (let i = 0; i < view.length; i++) out += view[i].toString(16).padStart(2, "0");
  return out;
}
