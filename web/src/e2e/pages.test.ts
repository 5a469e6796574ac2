// The web app in real Chromium on the real system (startTestSystem: contracts, ingest, projector, gateway on
// the test run's anvil, PostgreSQL and Kafka), with a test wallet announced through EIP-6963. Every page is
// checked with axe-core and photographed at desktop and phone widths (web/.screenshots/).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { randomBytes32 } from "@carechain/contracts";
import { consentManagerAbi, identityRegistryAbi } from "@carechain/contracts/abis";
import { recordTypes, scopes } from "@carechain/contracts/codes";
import type { Actor } from "@carechain/contracts/testing";
import type { TestSystem } from "@carechain/system/testing";
import type { Page } from "playwright-core";
import type { Hex } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { WebServer } from "../server/serve.ts";
import {
  checkPage,
  connect,
  expectWriteStatesInOrder,
  fundedKey,
  openPage,
  signIn,
  startWebSystem,
  stopWebSystem,
  waitIndexed,
  watchWriteStates,
} from "./system-fixture.ts";

let running: TestSystem | undefined;
let web: WebServer | undefined;
let doctor: Actor;
let chainId: number;

beforeAll(async () => {
  ({ running, web, chainId } = await startWebSystem("web"));
  doctor = await running.fixture.createActor("verifiedDoctor");
  await running.system.waitForCatchUp(60_000); // the doctor is in the directory before the patient looks
}, 180_000);

afterAll(() => stopWebSystem(), 120_000);

describe("the web app on the real system", () => {
  let patientKey: Hex;
  let patientAddress: string;

  test("behavior: a patient registers and signs in", async () => {
    patientKey = await fundedKey();
    const { page, wallet, loadMs } = await openPage({ privateKey: patientKey });
    patientAddress = wallet!.account.address;
    process.stdout.write(`[web e2e] first page shown in ${loadMs} ms\n`);
    await checkPage(page, "connect");
    await signIn(page);
    await page.getByRole("heading", { name: "Register" }).waitFor();
    await checkPage(page, "register");
    await page.getByLabel("Name").fill("Test Patient");
    const clicked = Date.now();
    await page.getByRole("button", { name: "Register as a patient" }).click();
    // The register page gives way to the patient's home as soon as the gateway shows the registration.
    await page.getByRole("heading", { name: "My health record" }).waitFor({ timeout: 90_000 });
    process.stdout.write(
      `[web e2e] registration: click -> visible in CareChain in ${Date.now() - clicked} ms\n`,
    );
    expect(wallet!.calls).toContain("personal_sign");
    expect(wallet!.calls).toContain("eth_sendTransaction");
    await checkPage(page, "patient-home");
    await page.context().close();
  }, 180_000);

  test("behavior: the patient grants a doctor from the directory, and the doctor sees the chart", async () => {
    const { page } = await openPage({ privateKey: patientKey });
    await signIn(page);
    await page.getByRole("heading", { name: "My health record" }).waitFor();
    await page.getByLabel("Doctor", { exact: true }).selectOption(doctor.address);
    await page.getByLabel("add records").check();
    await page.getByRole("button", { name: "Give access" }).click();
    await waitIndexed(page);
    await expect.poll(() => page.locator(".grants li").count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator(".grants li").textContent()).toContain("add records");
    await checkPage(page, "patient-granted");
    await page.context().close();

    const asDoctor = await openPage({ privateKey: doctor.privateKey });
    await signIn(asDoctor.page);
    await asDoctor.page.getByRole("heading", { name: "My patients" }).waitFor();
    await checkPage(asDoctor.page, "doctor-home");
    await asDoctor.page
      .getByRole("link", { name: /Patient/ })
      .first()
      .click();
    await asDoctor.page.getByRole("heading", { name: /Chart of patient/ }).waitFor();
    await asDoctor.page.getByRole("heading", { name: "Records" }).waitFor();
    expect(await asDoctor.page.getByText("You have no access to this").count()).toBe(0);
    await checkPage(asDoctor.page, "doctor-chart");
    await asDoctor.page.context().close();
  }, 180_000);

  test("behavior: the doctor adds a record with a document encrypted in the browser; the patient opens it, checked against the chain", async () => {
    const note = `Consultation note ${Date.now()}: blood pressure to be checked again in two weeks.`;
    const asDoctor = await openPage({ privateKey: doctor.privateKey });
    // What leaves the browser: the upload's body, to check it is ciphertext.
    const uploads: Buffer[] = [];
    asDoctor.page.on("request", (request) => {
      if (request.method() === "POST" && /\/documents\?patient=/.test(request.url()))
        uploads.push(request.postDataBuffer() ?? Buffer.alloc(0));
    });
    await signIn(asDoctor.page);
    await asDoctor.page.getByRole("heading", { name: "My patients" }).waitFor();
    await asDoctor.page.goto(`${web!.url}/#/patient/${patientAddress}`);
    await asDoctor.page.getByRole("heading", { name: "Add a record" }).waitFor();
    await asDoctor.page.getByLabel("Record type").selectOption("consultationNote");
    await asDoctor.page
      .getByLabel("Document")
      .setInputFiles({ name: "note.txt", mimeType: "text/plain", buffer: Buffer.from(note) });
    await asDoctor.page.getByRole("button", { name: "Add the record" }).click();
    await waitIndexed(asDoctor.page);
    expect(asDoctor.wallet!.calls).toContain("eth_sendTransaction");
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.subarray(0, 4).toString()).toBe("CCD1"); // the documents' format…
    expect(uploads[0]!.includes(Buffer.from("blood pressure"))).toBe(false); // …and no plaintext in it
    const uploadedHash = `0x${createHash("sha256").update(uploads[0]!).digest("hex")}`;
    // The record is on chain with the hash of exactly those bytes.
    const recordRow = asDoctor.page.getByRole("row", { name: /Consultation note/ });
    await recordRow.waitFor();
    await checkPage(asDoctor.page, "doctor-add-record");
    await asDoctor.page.context().close();

    const { page, wallet } = await openPage({ privateKey: patientKey });
    await signIn(page);
    await page.getByRole("heading", { name: "My health record" }).waitFor();
    await page.getByRole("button", { name: "Open document" }).click();
    const opened = page.locator('[data-document="verified"]');
    await opened.waitFor({ timeout: 30_000 });
    expect(await opened.textContent()).toContain("Matches the hash on chain");
    // The document key is derived from a wallet signature again (the same as at registration).
    expect(wallet!.calls.filter((call) => call === "personal_sign").length).toBeGreaterThanOrEqual(2);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Save the document" }).click(),
    ]);
    expect(readFileSync((await download.path())!, "utf8")).toBe(note);
    await checkPage(page, "patient-document-open");
    await page.context().close();

    // A gateway (or store) that serves other bytes: refused by the hash check, before any decryption.
    const tampered = await openPage({ privateKey: patientKey });
    await tampered.page.route(`**/documents/${uploadedHash}`, async (route) => {
      const original = await route.fetch();
      const body = Buffer.from(await original.body());
      body[body.length - 1]! ^= 1;
      await route.fulfill({ response: original, body });
    });
    await signIn(tampered.page);
    await tampered.page.getByRole("button", { name: "Open document" }).click();
    await expect
      .poll(() => tampered.page.getByRole("alert").first().textContent(), { timeout: 30_000 })
      .toContain("The document was changed and was not opened: its bytes do not match the hash");
    expect(await tampered.page.getByRole("link", { name: "Save the document" }).count()).toBe(0);
    await tampered.page.context().close();
  }, 180_000);

  test("behavior: an out-of-range reading arrives live on the patient's page, on the doctor's page, and in the doctor's chart", async () => {
    const { fixture } = running!;
    const patientClient = fixture.clientFor(patientKey);
    const device = await fixture.createActor("unregistered");
    await patientClient.authorizeDevice({ device: device.address });
    await patientClient.setVitalsRange({
      patient: patientAddress as Hex,
      systolicMin: 90,
      systolicMax: 140,
      diastolicMin: 60,
      diastolicMax: 90,
    });
    const { page } = await openPage({ privateKey: patientKey });
    await signIn(page);
    await page.getByText("Live: new alerts appear here").waitFor();
    // The doctor (READ_VITALS from the grant) waits on its own home page: alerts of all its patients.
    const asDoctor = await openPage({ privateKey: doctor.privateKey });
    await signIn(asDoctor.page);
    await asDoctor.page.getByRole("heading", { name: "My patients" }).waitFor();
    await asDoctor.page.getByText("Live: new alerts appear here").waitFor();
    expect(await asDoctor.page.getByText("182/104 mmHg").count()).toBe(0);
    await device.client.submitReading({ measuredAt: await fixture.now(), systolic: 182, diastolic: 104 });
    const submitted = Date.now();
    const doctorAlert = asDoctor.page.locator("li", { hasText: "182/104 mmHg" });
    const [toPatient, toDoctor] = await Promise.all(
      [page.getByText("182/104 mmHg"), doctorAlert].map((shown) =>
        shown.waitFor({ timeout: 30_000 }).then(() => Date.now() - submitted),
      ),
    );
    process.stdout.write(
      `[web e2e] alert: reading mined -> shown live in ${toPatient} ms (patient), ${toDoctor} ms (doctor)\n`,
    );
    await checkPage(page, "patient-live-alert");
    await page.context().close();
    // It names the patient it is about (the doctor's page shows every patient's alerts).
    expect(await doctorAlert.locator("code").getAttribute("title")).toBe(patientAddress.toLowerCase());
    // And whether it is final yet (provisional when indexed at the chain's head, as here, unless blocks came
    // on top of it before ingest read it).
    expect(await doctorAlert.textContent()).toMatch(/\((provisional|final)\)/);
    await checkPage(asDoctor.page, "doctor-live-alert");

    await asDoctor.page.goto(`${web!.url}/#/patient/${patientAddress}`);
    await asDoctor.page.getByText("Latest: 182/104 mmHg").waitFor();
    const chart = asDoctor.page.getByRole("img", { name: /Blood pressure, 1 reading$/ });
    await chart.waitFor();
    // The x-axis spans the reading shown (an hour either side), not years.
    await expect
      .poll(async () => Number(await chart.getAttribute("data-x-span-seconds")), { timeout: 15_000 })
      .toBe(2 * 3600);
    await checkPage(asDoctor.page, "doctor-vitals-chart");
    await asDoctor.page.context().close();
  }, 180_000);

  test("behavior: the patient sees who read the record, then revokes, and the doctor's next view says no access", async () => {
    const { page } = await openPage({ privateKey: patientKey });
    await signIn(page);
    // The doctor's reads of the chart (earlier tests) are in the access log, under the patient's grant.
    const doctorReads = page
      .locator(".access-log tbody tr")
      .filter({ has: page.locator(`code[title="${doctor.address.toLowerCase()}"]`) });
    // Its own query: it may answer after the rest of the page (a busy machine), hence the wait.
    await page.locator(".access-log").waitFor();
    await expect
      .poll(() => doctorReads.filter({ hasText: "Records" }).count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect(await doctorReads.first().textContent()).toContain("Grant");
    await checkPage(page, "patient-access-log");
    await page.getByRole("button", { name: "Revoke" }).click();
    await waitIndexed(page);
    await expect.poll(() => page.locator(".grants li").count(), { timeout: 15_000 }).toBe(0);
    await page.context().close();

    const asDoctor = await openPage({ privateKey: doctor.privateKey });
    await signIn(asDoctor.page);
    await asDoctor.page.getByRole("heading", { name: "My patients" }).waitFor();
    await asDoctor.page.goto(`${web!.url}/#/patient/${patientAddress}`);
    await asDoctor.page.getByText("You have no access to this.").waitFor();
    await checkPage(asDoctor.page, "doctor-no-access");
    await asDoctor.page.context().close();
  }, 180_000);
});

describe("organizations", () => {
  test("behavior: a hospital registers as an organization and, once a registrar, verifies a doctor", async () => {
    const { fixture, system } = running!;
    const newDoctor = await fixture.createActor("doctor");
    const hospitalKey = await fundedKey();
    const { page, wallet } = await openPage({ privateKey: hospitalKey });
    await signIn(page);
    await page.getByRole("heading", { name: "Register" }).waitFor();
    await page.getByLabel("an organization").check();
    await page.getByLabel("Kind of organization").selectOption("hospital");
    await page.getByLabel("Name").fill("Test Hospital");
    await page.getByRole("button", { name: "Register as a hospital" }).click();
    await page.getByRole("heading", { name: "My organization" }).waitFor({ timeout: 90_000 });
    // Not a registrar yet: said, and nothing can be verified.
    await page.getByText("not a registrar yet").waitFor();
    const verifyButton = (p: Page) =>
      p.getByRole("button", { name: `Verify ${newDoctor.address.toLowerCase()}` });
    expect(await verifyButton(page).isDisabled()).toBe(true);
    await checkPage(page, "hospital-not-registrar");
    await page.context().close();

    // The network's owner makes it a registrar (governance, outside the page).
    await fixture.admin!.client.setRegistrar({ organization: wallet!.account.address, enabled: true });
    await system.waitForCatchUp(60_000);
    const hospital = await openPage({ privateKey: hospitalKey });
    await signIn(hospital.page);
    await hospital.page.getByRole("heading", { name: "Verify doctors" }).waitFor();
    expect(await hospital.page.getByText("not a registrar yet").count()).toBe(0);
    await verifyButton(hospital.page).click();
    await waitIndexed(hospital.page);
    const row = hospital.page
      .locator(".doctors tbody tr")
      .filter({ has: hospital.page.locator(`code[title="${newDoctor.address.toLowerCase()}"]`) });
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toContain("verified");
    expect(
      await fixture.publicClient.readContract({
        address: system.deployment.contracts.IdentityRegistry.address,
        abi: identityRegistryAbi,
        functionName: "isVerifiedDoctor",
        args: [newDoctor.address],
      }),
    ).toBe(true);
    await checkPage(hospital.page, "hospital-verified");
    await hospital.page.context().close();
  }, 180_000);

  test('behavior: an insurer sees what its grant allows (records, not vitals), and "no access" for another patient', async () => {
    const { fixture, system } = running!;
    const insurer = await fixture.createActor("insurer");
    const [granting, other] = await fixture.createActors("patient", 2);
    await granting!.client.grantAccess({ grantee: insurer.address, scopes: scopes.READ_RECORDS });
    // A record of the patient's own (no document): what a records-only grant shows.
    await granting!.client.addRecord({
      patient: granting!.address,
      recordType: recordTypes.patientUpload,
      contentHash: randomBytes32(),
      storagePointer: "0x01",
    });
    await system.waitForCatchUp(60_000);
    const { page } = await openPage({ privateKey: insurer.privateKey });
    await signIn(page);
    await page.getByRole("heading", { name: "My organization" }).waitFor();
    await page.getByText("Insurer").first().waitFor();
    await page.getByRole("link", { name: /Patient/ }).click();
    await page.getByRole("heading", { name: /Chart of patient/ }).waitFor();
    await page.getByRole("row", { name: /Patient upload/ }).waitFor(); // the records: in its grant
    await page.getByText("You have no access to the vitals.").waitFor(); // the vitals: not in its grant
    expect(await page.getByText("You have no access to this.").count()).toBe(0);
    expect(await page.getByRole("heading", { name: "Add a record" }).count()).toBe(0);
    await checkPage(page, "insurer-chart");
    await page.goto(`${web!.url}/#/patient/${other!.address}`);
    await page.getByText("You have no access to this.").waitFor();
    await checkPage(page, "insurer-no-access");
    await page.context().close();
  }, 180_000);
});

describe("emergency access", () => {
  test("behavior: a verified doctor opens emergency access with a reason, reads the chart, and the patient's access log shows it", async () => {
    const { fixture, system } = running!;
    const emergencyDoctor = await fixture.createActor("verifiedDoctor");
    const patient = await fixture.createActor("patient");
    await patient.client.addRecord({
      patient: patient.address,
      recordType: recordTypes.patientUpload,
      contentHash: randomBytes32(),
      storagePointer: "0x01",
    });
    await system.waitForCatchUp(60_000);
    const { page, wallet } = await openPage({ privateKey: emergencyDoctor.privateKey });
    await signIn(page);
    await page.getByRole("heading", { name: "My patients" }).waitFor();
    await page.goto(`${web!.url}/#/patient/${patient.address}`);
    await page.getByText("You have no access to this.").waitFor();
    const form = page.locator("form.emergency");
    // No reason: refused in the form, nothing sent.
    await form.getByRole("button", { name: "Open emergency access" }).click();
    await expect.poll(() => form.getByRole("alert").textContent()).toContain("Say why");
    expect(wallet!.calls).not.toContain("eth_sendTransaction");
    await checkPage(page, "doctor-emergency-form");

    await watchWriteStates(page, "form.emergency");
    const reason = "Unconscious in the emergency room, allergies unknown";
    await form.getByLabel(/Reason/).fill(reason);
    await form.getByLabel("Duration").selectOption("4");
    await form.getByRole("button", { name: "Open emergency access" }).click();
    await waitIndexed(page);
    // The chart it unlocked: records and vitals, no "no access".
    await page.getByRole("row", { name: /Patient upload/ }).waitFor();
    expect(await page.getByText("You have no access to this.").count()).toBe(0);
    await expectWriteStatesInOrder(page);
    // On chain: open for the chosen 4 hours, under a hash, not the reason's words.
    const until = await fixture.publicClient.readContract({
      address: system.deployment.contracts.ConsentManager.address,
      abi: consentManagerAbi,
      functionName: "emergencyAccessUntil",
      args: [patient.address, emergencyDoctor.address],
    });
    expect(Number(until) - Number(await fixture.now())).toBeGreaterThan(3 * 3600);
    expect(Number(until) - Number(await fixture.now())).toBeLessThanOrEqual(4 * 3600);
    await checkPage(page, "doctor-emergency-chart");
    await page.context().close();

    const asPatient = await openPage({ privateKey: patient.privateKey });
    await signIn(asPatient.page);
    await asPatient.page.getByRole("heading", { name: "My health record" }).waitFor();
    await asPatient.page.locator(".access-log").waitFor();
    const emergencyReads = asPatient.page
      .locator(".access-log tbody tr")
      .filter({ has: asPatient.page.locator(`code[title="${emergencyDoctor.address.toLowerCase()}"]`) })
      .filter({ hasText: "Emergency access" });
    await expect.poll(() => emergencyReads.filter({ hasText: "Records" }).count()).toBeGreaterThan(0);
    await checkPage(asPatient.page, "patient-access-log-emergency");
    await asPatient.page.context().close();
  }, 180_000);
});

describe("errors people meet", () => {
  test("error: no wallet installed: a link to install one", async () => {
    const { page } = await openPage();
    const alert = page.getByRole("alert");
    await expect.poll(() => alert.textContent(), { timeout: 15_000 }).toContain("No wallet was found");
    expect(await alert.getByRole("link", { name: "MetaMask" }).getAttribute("href")).toMatch(/^https:\/\//);
    await checkPage(page, "no-wallet");
  });

  test("error: the signature is rejected in the wallet", async () => {
    const { page } = await openPage({ privateKey: await fundedKey(), reject: ["personal_sign"] });
    await signIn(page);
    await expect
      .poll(() => page.getByRole("alert").textContent(), { timeout: 15_000 })
      .toContain("You rejected the request");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await checkPage(page, "rejected");
  });

  test("error: the wallet is on another network: switch, adding the chain", async () => {
    const { page, wallet } = await openPage({ privateKey: await fundedKey(), startChainId: 1 });
    await connect(page);
    await page.getByRole("heading", { name: "Wrong network" }).waitFor();
    expect(await page.getByRole("alert").textContent()).toContain(`chain ${chainId}`);
    await checkPage(page, "wrong-network");
    await page.getByRole("button", { name: /Switch to/ }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(wallet!.calls).toEqual(
      expect.arrayContaining(["wallet_switchEthereumChain", "wallet_addEthereumChain"]),
    );
    expect(wallet!.currentChainId()).toBe(chainId);
  });

  test("error: the wallet is locked", async () => {
    const { page } = await openPage({ privateKey: await fundedKey(), locked: true });
    await connect(page);
    await page.getByRole("heading", { name: "Your wallet is locked" }).waitFor();
    await checkPage(page, "locked");
  });

  test("error: a doctor may read but not add records: said after the upload is refused, nothing sent to the chain", async () => {
    const { fixture, system } = running!;
    const [readOnly, patient] = await Promise.all([
      fixture.createActor("verifiedDoctor"),
      fixture.createActor("patient"),
    ]);
    await patient.client.grantAccess({ grantee: readOnly.address, scopes: scopes.READ_RECORDS });
    await system.waitForCatchUp(60_000);
    const { page, wallet } = await openPage({ privateKey: readOnly.privateKey });
    await signIn(page);
    await page.getByRole("heading", { name: "My patients" }).waitFor();
    await page.goto(`${web!.url}/#/patient/${patient.address}`);
    await page.getByRole("heading", { name: "Add a record" }).waitFor();
    // Checked in the form first: no file, nothing happens but a sentence.
    await page.getByRole("button", { name: "Add the record" }).click();
    await expect
      .poll(() => page.getByRole("alert").first().textContent(), { timeout: 15_000 })
      .toContain("Choose the document to attach.");
    await page
      .getByLabel("Document")
      .setInputFiles({ name: "note.txt", mimeType: "text/plain", buffer: Buffer.from("a note") });
    await page.getByRole("button", { name: "Add the record" }).click();
    await expect
      .poll(() => page.getByRole("alert").first().textContent(), { timeout: 30_000 })
      .toContain("You may not add records for this patient");
    expect(wallet!.calls).not.toContain("eth_sendTransaction");
    await checkPage(page, "doctor-may-not-add");
  }, 120_000);

  test("error: not enough ether: the cost and the balance, before anything is sent", async () => {
    const { page, wallet } = await openPage({ privateKey: await fundedKey("0") });
    await signIn(page);
    await page.getByLabel("Name").fill("Poor Patient");
    await page.getByRole("button", { name: "Register as a patient" }).click();
    const alert = page.getByRole("alert");
    await expect
      .poll(() => alert.textContent(), { timeout: 30_000 })
      .toMatch(/costs up to [\d.]+ ETH .* holds 0 ETH/);
    expect(wallet!.calls).not.toContain("eth_sendTransaction");
  });
});
