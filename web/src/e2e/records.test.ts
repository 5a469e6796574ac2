// The doctor's and the hospital's record writes in real Chromium on the real system: amending a record (the
// patient sees the amendment chain), a record signed by the doctor (EIP-712, no transaction) and relayed by
// the hospital (`addRecordBySig`), and the chart saying when it is read under emergency access.
import { readFileSync } from "node:fs";
import { hashText } from "@carechain/contracts";
import { consentManagerAbi, recordRegistryAbi } from "@carechain/contracts/abis";
import { scopes } from "@carechain/contracts/codes";
import type { Actor } from "@carechain/contracts/testing";
import type { Locator, Page } from "playwright-core";
import type { Hex } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  checkPage,
  expectWriteStatesInOrder,
  grantIndexed,
  note,
  openPage,
  pageActor,
  signIn,
  startWebSystem,
  stopWebSystem,
  type WebSystem,
  waitIndexed,
  watchWriteStates,
} from "./system-fixture.ts";

let running: WebSystem["running"];
let webUrl: string;
let doctor: Actor;
let hospital: Actor;
let patient: Actor;

beforeAll(async () => {
  const web = await startWebSystem("webrecords");
  running = web.running;
  webUrl = web.web.url;
  const { fixture } = running;
  [doctor, hospital, patient] = await Promise.all([
    fixture.createActor("verifiedDoctor"),
    fixture.createActor("hospital"),
    pageActor("patient"),
  ]);
  await grantIndexed(patient, doctor, scopes.READ_RECORDS | scopes.WRITE_RECORDS);
}, 240_000);

afterAll(async () => {
  await stopWebSystem();
}, 120_000);

const recordOf = (recordId: Hex) =>
  running.fixture.publicClient.readContract({
    address: running.system.deployment.contracts.RecordRegistry.address,
    abi: recordRegistryAbi,
    functionName: "recordOf",
    args: [recordId],
  });

/** The patient's record ids on chain, in the order they were added. */
async function recordIds(of: Actor): Promise<Hex[]> {
  const registry = {
    address: running.system.deployment.contracts.RecordRegistry.address,
    abi: recordRegistryAbi,
  };
  const count = await running.fixture.publicClient.readContract({
    ...registry,
    functionName: "recordCount",
    args: [of.address],
  });
  return Promise.all(
    Array.from({ length: Number(count) }, (_, i) =>
      running.fixture.publicClient.readContract({
        ...registry,
        functionName: "recordIdAt",
        args: [of.address, BigInt(i)],
      }),
    ),
  );
}

/** Opens a document in the patient's page, checked against the chain, and answers its text. */
async function openAndRead(page: Page, where: Locator): Promise<string> {
  await where.getByRole("button", { name: "Open document" }).first().click();
  const opened = where.locator('[data-document="verified"]').first();
  await opened.waitFor({ timeout: 30_000 });
  expect(await opened.textContent()).toContain("Matches the hash on chain");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    where.getByRole("link", { name: "Save the document" }).first().click(),
  ]);
  return readFileSync((await download.path())!, "utf8");
}

describe("records: amend, relay, emergency", () => {
  test("behavior: a doctor amends a record with a new document; the patient sees the amendment chain and opens both versions", async () => {
    const first = `Consultation note ${Date.now()}: start the treatment.`;
    const second = `Amended ${Date.now()}: the dose is halved.`;
    const asDoctor = await openPage({ privateKey: doctor.privateKey });
    await signIn(asDoctor.page);
    await asDoctor.page.getByRole("heading", { name: "My patients" }).waitFor();
    await asDoctor.page.goto(`${webUrl}/#/patient/${patient.address}`);
    await asDoctor.page.getByRole("heading", { name: "Add a record" }).waitFor();
    await asDoctor.page.getByLabel("Document", { exact: true }).setInputFiles(note(first));
    await asDoctor.page.getByRole("button", { name: "Add the record" }).click();
    await waitIndexed(asDoctor.page);
    const [originalId] = await recordIds(patient);

    await asDoctor.page.getByRole("button", { name: /^Amend the consultation note/ }).click();
    const form = asDoctor.page.locator("form.amend");
    await form.getByRole("heading", { name: "Amend the consultation note (version 1)" }).waitFor();
    // Checked in the form first: no document, a sentence and nothing sent.
    const sent = asDoctor.wallet!.calls.filter((c) => c === "eth_sendTransaction").length;
    await form.getByRole("button", { name: "Amend the record" }).click();
    await expect
      .poll(() => form.getByRole("alert").textContent())
      .toContain("Choose the document to attach.");
    await form.getByLabel("New document").setInputFiles(note(second));
    await watchWriteStates(asDoctor.page, "form.amend");
    await form.getByRole("button", { name: "Amend the record" }).click();
    await waitIndexed(asDoctor.page, form);
    await expectWriteStatesInOrder(asDoctor.page);
    expect(asDoctor.wallet!.calls.filter((c) => c === "eth_sendTransaction").length).toBe(sent + 1);
    // The chart lists the latest version, which amends the first.
    const row = asDoctor.page.locator("table.records tbody tr").first();
    await expect.poll(() => row.locator("td").nth(3).textContent()).toContain("2");
    expect(await row.textContent()).toContain("Amends 1 earlier version");
    await checkPage(asDoctor.page, "doctor-amend-record");
    await asDoctor.page.context().close();

    // On chain: a second version superseding the first, by this doctor.
    const ids = await recordIds(patient);
    expect(ids).toHaveLength(2);
    const [, author, , , version, previous] = await recordOf(ids[1]!);
    expect([author, version, previous]).toEqual([doctor.address, 2, originalId]);
    expect((await recordOf(originalId!))[6]).toBe(ids[1]);

    const asPatient = await openPage({ privateKey: patient.privateKey });
    await signIn(asPatient.page);
    await asPatient.page.getByRole("heading", { name: "My health record" }).waitFor();
    const patientRow = asPatient.page.getByRole("row", { name: /Consultation note/ });
    await patientRow.waitFor();
    expect(await patientRow.locator("td").nth(3).textContent()).toMatch(/^2/);
    const latestCell = patientRow.locator("td").nth(4);
    expect(await openAndRead(asPatient.page, latestCell)).toBe(second);
    await patientRow.getByText("Amends 1 earlier version").click();
    const earlier = patientRow.locator('li[data-version="1"]');
    await earlier.waitFor();
    expect(await earlier.textContent()).toContain(doctor.address.toLowerCase().slice(0, 6));
    expect(await openAndRead(asPatient.page, earlier)).toBe(first);
    await checkPage(asPatient.page, "patient-amendment-chain");
    await asPatient.page.context().close();
  }, 240_000);

  test("behavior: a doctor with no ether signs a record for the hospital (EIP-712, no transaction); the hospital checks and relays it; the patient sees it authored by the doctor", async () => {
    const words = `Lab result ${Date.now()}: potassium normal.`;
    // No ether at all: signing sends nothing.
    await running.fixture.testClient.setBalance({ address: doctor.address, value: 0n });
    const asDoctor = await openPage({ privateKey: doctor.privateKey });
    await signIn(asDoctor.page);
    await asDoctor.page.getByRole("heading", { name: "My patients" }).waitFor();
    await asDoctor.page.goto(`${webUrl}/#/patient/${patient.address}`);
    await asDoctor.page.getByRole("heading", { name: "Add a record" }).waitFor();
    await asDoctor.page.getByLabel("Record type").selectOption("labResult");
    await asDoctor.page.getByLabel("Document", { exact: true }).setInputFiles(note(words));
    await asDoctor.page.getByLabel(/Sign only/).check();
    await asDoctor.page.getByRole("button", { name: "Sign the record for my hospital" }).click();
    await asDoctor.page.locator('[data-signed="authorization"]').waitFor({ timeout: 30_000 });
    const signedText = await asDoctor.page.getByLabel("Signed record authorization").inputValue();
    expect(asDoctor.wallet!.calls).toContain("eth_signTypedData_v4");
    expect(asDoctor.wallet!.calls).not.toContain("eth_sendTransaction");
    await checkPage(asDoctor.page, "doctor-signed-for-hospital");
    await asDoctor.page.context().close();
    const { recordId } = (JSON.parse(signedText) as { authorization: { recordId: Hex } }).authorization;

    const asHospital = await openPage({ privateKey: hospital.privateKey });
    await signIn(asHospital.page);
    const relay = asHospital.page.locator("form.relay");
    await relay.getByRole("heading", { name: "Relay a doctor's signed record" }).waitFor();
    // Changed after signing: refused by the page's own check, nothing sent.
    await relay
      .getByLabel("Signed record authorization")
      .fill(signedText.replace(/"recordType": \d+/, '"recordType": 1'));
    await relay.getByRole("button", { name: "Check the signature" }).click();
    await expect
      .poll(() => relay.getByRole("alert").textContent())
      .toContain("not made by the doctor it names");
    await relay.getByLabel("Signed record authorization").fill(signedText);
    await relay.getByRole("button", { name: "Check the signature" }).click();
    const checked = relay.locator('[data-relay="checked"]');
    await checked.waitFor();
    expect(await checked.textContent()).toContain("a new lab result record");
    expect((await checked.locator("code").first().getAttribute("title"))?.toLowerCase()).toBe(
      doctor.address.toLowerCase(),
    );
    await relay.getByRole("button", { name: "Relay the record" }).click();
    // This hospital has no grant from the patient: the page says it cannot see the record, not "visible".
    await relay.locator('[data-write-state="mined-unseen"]').waitFor({ timeout: 90_000 });
    expect(asHospital.wallet!.calls).toContain("eth_sendTransaction");
    await checkPage(asHospital.page, "hospital-relayed");
    // The same text again: the doctor's nonce moved on, so the page says it was used.
    await relay.getByRole("button", { name: "Check the signature" }).click();
    await expect.poll(() => relay.getByRole("alert").textContent()).toContain("already used");
    await asHospital.page.context().close();

    // On chain: the doctor's record, sent by the hospital; the doctor's nonce used.
    const [onChainPatient, author, , , version] = await recordOf(recordId);
    expect([onChainPatient, author, version]).toEqual([patient.address, doctor.address, 1]);
    await running.system.waitForCatchUp(60_000);

    const asPatient = await openPage({ privateKey: patient.privateKey });
    await signIn(asPatient.page);
    await asPatient.page.getByRole("heading", { name: "My health record" }).waitFor();
    const row = asPatient.page.getByRole("row", { name: /Lab result/ });
    await row.waitFor({ timeout: 30_000 });
    const authorCell = row.locator("td").nth(2);
    expect(await authorCell.locator("code").first().getAttribute("title")).toBe(doctor.address.toLowerCase());
    expect(await authorCell.textContent()).toContain("sent by");
    expect(await authorCell.locator("code").nth(1).getAttribute("title")).toBe(
      hospital.address.toLowerCase(),
    );
    expect(await openAndRead(asPatient.page, row.locator("td").nth(4))).toBe(words);
    await checkPage(asPatient.page, "patient-relayed-record");
    await asPatient.page.context().close();
  }, 240_000);

  test("error: the doctor rejects the signature in the wallet: nothing signed, nothing sent", async () => {
    const { page, wallet } = await openPage({
      privateKey: doctor.privateKey,
      reject: ["eth_signTypedData_v4"],
    });
    await signIn(page);
    await page.getByRole("heading", { name: "My patients" }).waitFor();
    await page.goto(`${webUrl}/#/patient/${patient.address}`);
    await page.getByLabel("Document", { exact: true }).setInputFiles(note("a note"));
    await page.getByLabel(/Sign only/).check();
    await page.getByRole("button", { name: "Sign the record for my hospital" }).click();
    await expect
      .poll(() => page.getByRole("alert").first().textContent(), { timeout: 30_000 })
      .toContain("You rejected the request in your wallet");
    expect(await page.locator('[data-signed="authorization"]').count()).toBe(0);
    expect(wallet!.calls).not.toContain("eth_sendTransaction");
    await page.context().close();
  }, 120_000);

  test("behavior: a doctor's chart says when it is read under emergency access, and until when", async () => {
    const { fixture, system } = running;
    const [emergencyDoctor, other] = await Promise.all([
      fixture.createActor("verifiedDoctor"),
      fixture.createActor("patient"),
    ]);
    await emergencyDoctor.client.openEmergencyAccess({
      patient: other.address,
      reasonHash: hashText("unconscious, allergies unknown"),
      durationSeconds: 2 * 3600,
    });
    const until = await fixture.publicClient.readContract({
      address: system.deployment.contracts.ConsentManager.address,
      abi: consentManagerAbi,
      functionName: "emergencyAccessUntil",
      args: [other.address, emergencyDoctor.address],
    });
    await system.waitForCatchUp(60_000);
    const { page } = await openPage({ privateKey: emergencyDoctor.privateKey });
    await signIn(page);
    await page.getByRole("heading", { name: "My patients" }).waitFor();
    await page.goto(`${webUrl}/#/patient/${other.address}`);
    const notice = page.locator("[data-emergency-until]");
    await notice.waitFor();
    expect(Number(await notice.getAttribute("data-emergency-until"))).toBe(Number(until));
    expect(await notice.textContent()).toContain("emergency access, open until");
    await checkPage(page, "doctor-emergency-until");
    await page.context().close();

    // A doctor reading under a grant is told nothing of the kind.
    const granted = await openPage({ privateKey: doctor.privateKey });
    await signIn(granted.page);
    await granted.page.getByRole("heading", { name: "My patients" }).waitFor();
    await granted.page.goto(`${webUrl}/#/patient/${patient.address}`);
    await granted.page.getByRole("heading", { name: "Records" }).waitFor();
    await granted.page.waitForLoadState("networkidle"); // the chain's answer came, and said no
    expect(await granted.page.locator("[data-emergency-until]").count()).toBe(0);
    await granted.page.context().close();
  }, 180_000);
});
