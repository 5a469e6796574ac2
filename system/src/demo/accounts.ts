// The demo's accounts: anvil's ten well-known test accounts (derived from the mnemonic "test test ... junk"),
// so their keys are known to every developer and the demo is the same on every machine. Never use these
// keys on a real network.
import { deriveEncryptionKeyPair, type EncryptionKeyPair } from "@carechain/documents";
import { anvilAccounts } from "@carechain/stack";
import { type Address, type Hex, hexToBytes } from "viem";

export type DemoRole =
  | "admin"
  | "hospital, registrar"
  | "hospital"
  | "doctor, verified"
  | "patient"
  | "insurer"
  | "device";

export interface DemoAccount {
  /** What `npm run query -- --as <name>` takes. */
  name: string;
  role: DemoRole;
  /** Index among anvil's well-known test accounts. */
  anvilIndex: number;
  address: Address;
  privateKey: Hex;
  /** What it does in the demo. */
  story: string;
}

const account = (name: string, role: DemoRole, anvilIndex: number, story: string): DemoAccount => ({
  name,
  role,
  anvilIndex,
  address: anvilAccounts[anvilIndex]!.address,
  privateKey: anvilAccounts[anvilIndex]!.privateKey,
  story,
});

export const demoAccounts = {
  admin: account("admin", "admin", 0, "deploys the contracts, makes st-mary a registrar"),
  stMary: account("st-mary", "hospital, registrar", 1, "verifies the doctors, relays a signed record"),
  cityClinic: account("city-clinic", "hospital", 2, "a hospital without registrar rights"),
  drHouse: account("dr-house", "doctor, verified", 3, "alice's doctor: records, amendment, vitals range"),
  drGrey: account("dr-grey", "doctor, verified", 4, "bob's doctor; alice granted and then revoked her"),
  alice: account("alice", "patient", 5, "grants dr-house, acme-insurance; revokes dr-grey; has a device"),
  bob: account("bob", "patient", 6, "grants dr-grey; granted and revoked dr-house"),
  acme: account("acme-insurance", "insurer", 7, "READ_RECORDS on alice only, expires in 90 days"),
  device: account(
    "alice-bp-cuff",
    "device",
    8,
    "alice's blood-pressure cuff: sends readings, some raise alerts",
  ),
} as const;

export const demoAccountList: readonly DemoAccount[] = Object.values(demoAccounts);

/** A demo account by name ("dr-house"), by anvil index ("3"), or undefined. */
export function findDemoAccount(nameOrIndex: string): DemoAccount | undefined {
  const wanted = nameOrIndex.trim().toLowerCase();
  return demoAccountList.find((a) => a.name === wanted || String(a.anvilIndex) === wanted);
}

/**
 * The X25519 key pair whose public half an account registers as its `encryptionKey`, derived from its
 * private key, so that `npm run query` can decrypt documents as any demo account (or a 0x key given to it).
 * Only sensible because these keys are public anyway: a real account keeps a random secret.
 */
export function demoEncryptionKeyPair(account: Pick<DemoAccount, "privateKey">): EncryptionKeyPair {
  return deriveEncryptionKeyPair(hexToBytes(account.privateKey));
}
