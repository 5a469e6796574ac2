// Profiles as encrypted documents, in real Chromium on the real system (startTestSystem): registering uploads
// the profile's ciphertext and puts only its hash on chain; My profile downloads it, checks it against the
// chain's profileHash and decrypts it in the page; an edit is a new document and a new hash (updateProfile);
// other bytes than the chain's hash are refused. Doctors' and organizations' profiles are stored by CareChain
// too (no copy in the browser); a registration whose upload failed says so and My profile stores it again.
import { createHash } from "node:crypto";
import { identityRegistryAbi } from "@carechain/contracts/abis";
import type { Page } from "playwright-core";
import { type Address, type Hex, toHex } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  checkPage,
  expectWriteStatesInOrder,
  fundedKey,
  openPage,
  signIn,
  startWebSystem,
  stopWebSystem,
  type WebSystem,
  waitIndexed,
  watchWriteStates,
} from "./system-fixture.ts";

let system: WebSystem;

beforeAll(async () => {
  system = await startWebSystem("webprofile");
}, 180_000);

afterAll(() => stopWebSystem(), 120_000);

/** A signed-in page of `privateKey`'s account, with every document upload's body collected. */
async function signedIn(privateKey: Hex) {
  const { page, wallet } = await openPage({ privateKey });
  const uploads: Buffer[] = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && /\/documents\?patient=/.test(request.url()))
      uploads.push(request.postDataBuffer() ?? Buffer.alloc(0));
  });
  await signIn(page);
  return { page, wallet: wallet!, uploads };
}

const sha256 = (bytes: Uint8Array) => `0x${createHash("sha256").update(bytes).digest("hex")}`;

function profileHashOnChain(account: Address): Promise<Hex> {
  return system.running.fixture.publicClient.readContract({
    address: system.running.system.deployment.contracts.IdentityRegistry.address,
    abi: identityRegistryAbi,
    functionName: "profileHashOf",
    args: [account],
  });
}

/** The identity registry's logs about `account` and their transactions' inputs: what the chain holds. */
async function chainBytesAbout(account: Address): Promise<string> {
  const { publicClient } = system.running.fixture;
  const logs = await publicClient.getLogs({
    address: system.running.system.deployment.contracts.IdentityRegistry.address,
    fromBlock: 0n,
  });
  const mine = logs.filter((log) => log.topics[1]?.toLowerCase().endsWith(account.slice(2).toLowerCase()));
  const inputs = await Promise.all(
    mine.map(async (log) => (await publicClient.getTransaction({ hash: log.transactionHash! })).input),
  );
  return [...mine.map((log) => `${log.topics.join("")}${log.data}`), ...inputs].join("").toLowerCase();
}

async function myProfile(page: Page) {
  await page.getByRole("link", { name: "My profile" }).click();
  await page.getByRole("heading", { name: "My profile", exact: true }).waitFor();
}

/**
 * Opens My profile and checks that what it shows came from CareChain's store: the gateway served the
 * document named by the chain's profileHash (200), and this browser keeps no copy of any profile.
 */
async function openStoredProfile(page: Page, account: Address, name: string) {
  const profileHash = await profileHashOnChain(account);
  const download = page.waitForResponse(
    (response) =>
      response.request().method() === "GET" &&
      new URL(response.url()).pathname === `/documents/${profileHash}`,
    { timeout: 30_000 },
  );
  await myProfile(page);
  expect((await download).status()).toBe(200);
  await expect.poll(() => page.locator('[data-field="name"]').textContent(), { timeout: 30_000 }).toBe(name);
  expect(await page.locator("[data-profile-hash]").getAttribute("data-profile-hash")).toBe(profileHash);
  expect(await page.locator('[data-profile="verified"]').textContent()).toContain(
    "downloaded from CareChain",
  );
  const kept = await page.evaluate(() => Object.entries(localStorage).map(([key, value]) => key + value));
  expect(kept.filter((entry) => /profile/i.test(entry) || entry.includes(name))).toEqual([]);
}

describe("profiles as encrypted documents", () => {
  const name = `Profile Patient ${Date.now()}`;
  const newName = `Renamed Patient ${Date.now()}`;
  let patientKey: Hex;
  let patient: Address;
  let firstHash: Hex;

  test("behavior: a patient registers with a profile: its ciphertext is stored, only its hash is on chain", async () => {
    patientKey = await fundedKey();
    const { page, wallet, uploads } = await signedIn(patientKey);
    patient = wallet.account.address;
    await page.getByRole("heading", { name: "Register" }).waitFor();
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Contact (optional)").fill("profile.patient@example.org");
    await page.getByRole("button", { name: "Register as a patient" }).click();
    await page.getByRole("heading", { name: "My health record" }).waitFor({ timeout: 90_000 });
    expect(uploads).toHaveLength(1);
    const body = uploads[0]!;
    expect(body.subarray(0, 4).toString()).toBe("CCD1");
    expect(body.includes(name)).toBe(false);
    firstHash = await profileHashOnChain(patient);
    expect(firstHash).toBe(sha256(body));
    // Neither the event nor the transaction holds the name (as UTF-8 bytes in hex) or the contact.
    const onChain = await chainBytesAbout(patient);
    expect(onChain).toContain(firstHash.slice(2));
    expect(onChain).not.toContain(toHex(name).slice(2));
    expect(onChain).not.toContain(toHex("profile.patient").slice(2));
  }, 180_000);

  test("behavior: My profile shows the decrypted profile; an edit is a new document with its hash on chain", async () => {
    const { page, uploads } = await signedIn(patientKey);
    await page.getByRole("heading", { name: "My health record" }).waitFor();
    await myProfile(page);
    await expect
      .poll(() => page.locator('[data-field="name"]').textContent(), { timeout: 30_000 })
      .toBe(name);
    expect(await page.locator('[data-field="contact"]').textContent()).toBe("profile.patient@example.org");
    expect(await page.locator("[data-profile-hash]").getAttribute("data-profile-hash")).toBe(firstHash);
    await page.locator('[data-profile="verified"]').waitFor();
    await checkPage(page, "profile");

    await page.getByLabel("Name").fill(newName);
    await page.getByLabel("Contact (optional)").fill("renamed@example.org");
    await watchWriteStates(page, "form[aria-labelledby=edit-profile-title]");
    await page.getByRole("button", { name: "Save my profile" }).click();
    await waitIndexed(page);
    await expectWriteStatesInOrder(page);
    expect(uploads).toHaveLength(1);
    const newHash = await profileHashOnChain(patient);
    expect(newHash).not.toBe(firstHash);
    expect(newHash).toBe(sha256(uploads[0]!));
    expect(await page.locator('[data-field="name"]').textContent()).toBe(newName);
    expect(await chainBytesAbout(patient)).not.toContain(toHex(newName).slice(2));
    await checkPage(page, "profile-saved");
    await page.context().close();

    // A fresh page reads the new document from CareChain, not what the page kept.
    const again = await signedIn(patientKey);
    await again.page.getByRole("heading", { name: "My health record" }).waitFor();
    await myProfile(again.page);
    await expect
      .poll(() => again.page.locator('[data-field="name"]').textContent(), { timeout: 30_000 })
      .toBe(newName);
    expect(await again.page.locator('[data-field="contact"]').textContent()).toBe("renamed@example.org");
    await again.page.context().close();
  }, 180_000);

  test("error: a profile document whose bytes do not match the chain's hash is refused", async () => {
    const profileHash = await profileHashOnChain(patient);
    const { page } = await signedIn(patientKey);
    await page.route(`**/documents/${profileHash}`, async (route) => {
      const original = await route.fetch();
      const body = Buffer.from(await original.body());
      body[body.length - 1]! ^= 1;
      await route.fulfill({ response: original, body });
    });
    await page.getByRole("heading", { name: "My health record" }).waitFor();
    await myProfile(page);
    await expect
      .poll(() => page.getByRole("alert").first().textContent(), { timeout: 30_000 })
      .toContain("Your profile document was changed and was not opened");
    expect(await page.locator('[data-field="name"]').count()).toBe(0);
    expect(await page.locator("main").textContent()).not.toContain(newName);
    await checkPage(page, "profile-tampered");
    await page.context().close();
  }, 120_000);

  test("behavior: a doctor registers with a specialty; the profile opens, checked against the chain's hash", async () => {
    const doctorKey = await fundedKey();
    const doctorName = `Profile Doctor ${Date.now()}`;
    const { page, wallet } = await signedIn(doctorKey);
    await page.getByRole("heading", { name: "Register" }).waitFor();
    await page.getByLabel("a doctor").check();
    await page.getByLabel("Name").fill(doctorName);
    await page.getByLabel("Licence number").fill("LIC-12345");
    await page.getByLabel("Specialty (optional)").fill("Cardiology");
    await page.getByRole("button", { name: "Register as a doctor" }).click();
    await page.getByRole("heading", { name: "My patients" }).waitFor({ timeout: 90_000 });
    expect(await chainBytesAbout(wallet.account.address)).not.toContain(toHex(doctorName).slice(2));
    await openStoredProfile(page, wallet.account.address, doctorName);
    expect(await page.locator('[data-field="specialty"]').textContent()).toBe("Cardiology");
    expect(await page.locator('[data-field="license"]').textContent()).toBe("LIC-12345");
    await checkPage(page, "profile-doctor");
    await page.context().close();
  }, 180_000);

  test("behavior: a hospital registers; its profile is stored by CareChain and opens from there", async () => {
    const hospitalName = `Profile Hospital ${Date.now()}`;
    const { page, wallet } = await signedIn(await fundedKey());
    await page.getByRole("heading", { name: "Register" }).waitFor();
    await page.getByLabel("an organization").check();
    await page.getByLabel("Kind of organization").selectOption("hospital");
    await page.getByLabel("Name").fill(hospitalName);
    await page.getByRole("button", { name: "Register as a hospital" }).click();
    await page.getByRole("heading", { name: "My organization" }).waitFor({ timeout: 90_000 });
    await openStoredProfile(page, wallet.account.address, hospitalName);
    await page.context().close();
  }, 180_000);

  test("error: a registration whose profile upload failed says so; My profile stores it again", async () => {
    const doctorName = `Unstored Doctor ${Date.now()}`;
    const doctorKey = await fundedKey();
    const { page, wallet } = await signedIn(doctorKey);
    // The gateway is down for the upload only (after the registration was mined).
    await page.route("**/documents?patient=*", (route) =>
      route.request().method() === "POST"
        ? route.fulfill({ status: 503, json: { error: { code: "UNAVAILABLE", message: "Down." } } })
        : route.fallback(),
    );
    await page.getByRole("heading", { name: "Register" }).waitFor();
    await page.getByLabel("a doctor").check();
    await page.getByLabel("Name").fill(doctorName);
    await page.getByLabel("Licence number").fill("LIC-777");
    await page.getByRole("button", { name: "Register as a doctor" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "You are registered" });
    await alert.waitFor({ timeout: 90_000 });
    expect(await alert.textContent()).toContain("your profile document was not stored");
    await checkPage(page, "register-profile-not-stored");
    await page.unroute("**/documents?patient=*");

    // The chain names a hash CareChain does not hold: the gateway answers as for any unknown hash.
    await alert.getByRole("button", { name: "Open My profile" }).click();
    await page.getByRole("heading", { name: "My profile", exact: true }).waitFor();
    await expect
      .poll(() => page.getByRole("alert").first().textContent(), { timeout: 30_000 })
      .toContain("Your profile document was not found in CareChain");
    await page.getByLabel("Name").fill(doctorName);
    await page.getByRole("button", { name: "Save my profile" }).click();
    await waitIndexed(page);
    await page.context().close();
    const again = await signedIn(doctorKey);
    await again.page.getByRole("heading", { name: "My patients" }).waitFor();
    await openStoredProfile(again.page, wallet.account.address, doctorName);
    await again.page.context().close();
  }, 240_000);
});
