// The patient's controls in real Chromium on the real system: change a grant, close a doctor's emergency
// access, authorize and remove a device, choose who is alerted and the blood-pressure range. Each write is
// checked in the form first, refused by the contract in words when the form cannot know, shown until
// visible in CareChain, and read back from the chain.
import { consentManagerAbi, vitalsMonitorAbi } from "@carechain/contracts/abis";
import { scopes } from "@carechain/contracts/codes";
import type { Actor } from "@carechain/contracts/testing";
import type { TestSystem } from "@carechain/system/testing";
import type { Page } from "playwright-core";
import { keccak256, toHex, zeroAddress } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  checkPage,
  expectWriteStatesInOrder,
  openPage,
  signIn,
  startWebSystem,
  stopWebSystem,
  waitIndexed,
  watchWriteStates,
} from "./system-fixture.ts";

let running: TestSystem;
let patient: Actor;
let doctor: Actor;
let emergencyDoctor: Actor;
/** A device another patient already bound: only the contract knows, so it refuses in words. */
let boundDevice: Actor;

beforeAll(async () => {
  ({ running } = await startWebSystem("webpatient"));
  const { fixture, system } = running;
  patient = await fixture.createActor("patient");
  doctor = await fixture.createActor("verifiedDoctor");
  emergencyDoctor = await fixture.createActor("verifiedDoctor");
  const otherPatient = await fixture.createActor("patient");
  boundDevice = await fixture.createActor("unregistered");
  await patient.client.grantAccess({ grantee: doctor.address, scopes: scopes.READ_RECORDS });
  await emergencyDoctor.client.openEmergencyAccess({
    patient: patient.address,
    reasonHash: keccak256(toHex("test: unconscious, allergies unknown")),
    durationSeconds: 3600,
  });
  await otherPatient.client.authorizeDevice({ device: boundDevice.address });
  await system.waitForCatchUp(60_000);
}, 180_000);

afterAll(() => stopWebSystem(), 120_000);

const read = <const F extends string>(
  contract: "ConsentManager" | "VitalsMonitor",
  functionName: F,
  args: readonly unknown[],
) =>
  running.fixture.publicClient.readContract({
    address: running.system.deployment.contracts[contract].address,
    abi: contract === "ConsentManager" ? consentManagerAbi : vitalsMonitorAbi,
    functionName,
    args,
  } as never) as Promise<unknown>;

async function patientPage() {
  const opened = await openPage({ privateKey: patient.privateKey });
  await signIn(opened.page);
  // The first page of a fresh system warms the gateway and Chromium: a longer wait than the other steps.
  await opened.page
    .getByRole("heading", { name: "My health record" })
    .waitFor({ timeout: 60_000 })
    .catch(async (error: Error) => {
      throw new Error(`no patient home; the page says: ${await opened.page.locator("main").textContent()}`, {
        cause: error,
      });
    });
  return opened;
}

const alertIn = (page: Page, selector: string) => page.locator(selector).getByRole("alert").first();

/** yyyy-mm-dd, local time, `days` from now: what a date input holds. */
function dateIn(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

describe("the patient's controls", () => {
  test("behavior: the patient changes a grant's scopes and expiry, shown once indexed", async () => {
    const { page, wallet } = await patientPage();
    const row = page.locator(".grants li").filter({ hasText: "(doctor)" });
    await expect.poll(() => row.locator(".grant-terms").textContent()).toBe("read my records, no expiry");
    await row.getByRole("button", { name: "Change", exact: true }).click();
    const editor = row.locator("form.grant-editor");
    // No scope left: refused in the form, nothing sent.
    await editor.getByLabel("read my records").uncheck();
    await editor.getByRole("button", { name: "Save the change" }).click();
    await expect.poll(() => alertIn(page, ".grant-editor").textContent()).toContain("Choose at least one");
    // An expiry in the past: the same.
    await editor.getByLabel("add records").check();
    await editor.getByLabel(/Until/).fill(dateIn(-2));
    await editor.getByRole("button", { name: "Save the change" }).click();
    await expect.poll(() => alertIn(page, ".grant-editor").textContent()).toContain("in the future");
    expect(wallet!.calls).not.toContain("eth_sendTransaction");
    await checkPage(page, "patient-grant-change");

    await editor.getByLabel("read my vitals").check();
    await editor.getByLabel(/Until/).fill(dateIn(30));
    await watchWriteStates(page, ".grants");
    await editor.getByRole("button", { name: "Save the change" }).click();
    await waitIndexed(page, editor);
    await expectWriteStatesInOrder(page);
    await expect
      .poll(() => row.locator(".grant-terms").textContent())
      .toMatch(/^add records, read my vitals, until /);
    const [mask, expiresAt, revoked] = (await read("ConsentManager", "grantOf", [
      patient.address,
      doctor.address,
    ])) as [number, bigint, boolean];
    expect(mask).toBe(scopes.WRITE_RECORDS | scopes.READ_VITALS);
    expect(revoked).toBe(false);
    const daysAhead = (Number(expiresAt) * 1000 - Date.now()) / 86_400_000;
    expect(daysAhead).toBeGreaterThan(29);
    expect(daysAhead).toBeLessThan(31);
    await checkPage(page, "patient-grant-changed");
    await page.context().close();
  }, 180_000);

  test("behavior: the patient sees a doctor's open emergency access and closes it", async () => {
    const { page } = await patientPage();
    const section = page.locator("section.emergency-list");
    const close = section.getByRole("button", {
      name: `Close the emergency access of ${emergencyDoctor.address.toLowerCase()}`,
    });
    await close.waitFor();
    expect(await section.locator("li").count()).toBe(1);
    await checkPage(page, "patient-emergency-open");
    await watchWriteStates(page, "section.emergency-list");
    await close.click();
    await waitIndexed(page, section);
    await expectWriteStatesInOrder(page);
    await section.getByText("No doctor holds an open emergency access").waitFor();
    expect(
      await read("ConsentManager", "emergencyAccessUntil", [patient.address, emergencyDoctor.address]),
    ).toBe(0n);
    await page.context().close();
  }, 180_000);

  test("behavior: the patient authorizes a device, sees it listed, and removes it", async () => {
    const { page, wallet } = await patientPage();
    const form = page.locator("form.devices");
    await form.getByText("No device may report your readings.").waitFor();
    const input = form.getByLabel("Device address");
    const authorize = form.getByRole("button", { name: "Authorize the device" });
    await input.fill("0x1234");
    await authorize.click();
    await expect.poll(() => alertIn(page, "form.devices").textContent()).toContain("40 hexadecimal digits");
    await input.fill(patient.address);
    await authorize.click();
    await expect.poll(() => alertIn(page, "form.devices").textContent()).toContain("your own account");
    expect(wallet!.calls).not.toContain("eth_sendTransaction");

    const device = await running.fixture.createActor("unregistered");
    await input.fill(device.address);
    await authorize.click();
    await waitIndexed(page, form);
    const remove = form.getByRole("button", { name: `Remove device ${device.address.toLowerCase()}` });
    await remove.waitFor();
    expect(await read("VitalsMonitor", "patientOfDevice", [device.address])).toBe(patient.address);
    await checkPage(page, "patient-devices");

    await remove.click();
    await waitIndexed(page, form);
    await form.getByText("No device may report your readings.").waitFor();
    expect(await read("VitalsMonitor", "patientOfDevice", [device.address])).toBe(zeroAddress);
    await page.context().close();
  }, 180_000);

  test("error: a device another patient holds is refused with the contract's words, nothing sent", async () => {
    const { page, wallet } = await patientPage();
    const form = page.locator("form.devices");
    await form.getByText("No device may report your readings.").waitFor();
    await form.getByLabel("Device address").fill(boundDevice.address);
    await form.getByRole("button", { name: "Authorize the device" }).click();
    await expect
      .poll(() => alertIn(page, "form.devices").textContent(), { timeout: 20_000 })
      .toContain("is already bound to a patient");
    expect(wallet!.calls).not.toContain("eth_sendTransaction");
    await checkPage(page, "patient-device-refused");
    await page.context().close();
  }, 180_000);

  test("error: a write rejected in the wallet says nothing was sent", async () => {
    const opened = await openPage({ privateKey: patient.privateKey, reject: ["eth_sendTransaction"] });
    const { page, wallet } = opened;
    await signIn(page);
    const form = page.locator("form.devices");
    await form.getByText("No device may report your readings.").waitFor({ timeout: 60_000 });
    const device = await running.fixture.createActor("unregistered");
    await form.getByLabel("Device address").fill(device.address);
    await form.getByRole("button", { name: "Authorize the device" }).click();
    await expect
      .poll(() => alertIn(page, "form.devices").textContent())
      .toContain("You rejected the request in your wallet. Nothing was sent");
    expect(wallet!.calls).toContain("eth_sendTransaction");
    expect(await read("VitalsMonitor", "patientOfDevice", [device.address])).toBe(zeroAddress);
    await page.context().close();
  }, 180_000);

  test("behavior: the patient sets the blood-pressure range and who is alerted, current values shown", async () => {
    const { page, wallet } = await patientPage();
    const range = page.locator("form.vitals-range");
    await range.getByText("No range is set").waitFor();
    await range.getByLabel("Systolic at least").fill("140");
    await range.getByLabel("Systolic at most").fill("90");
    await range.getByLabel("Diastolic at least").fill("60");
    await range.getByLabel("Diastolic at most").fill("90");
    await range.getByRole("button", { name: "Set the range" }).click();
    await expect
      .poll(() => alertIn(page, "form.vitals-range").textContent())
      .toContain("systolic lower bound");
    await range.getByLabel("Diastolic at most").fill("301");
    await range.getByLabel("Systolic at least").fill("90");
    await range.getByLabel("Systolic at most").fill("140");
    await range.getByRole("button", { name: "Set the range" }).click();
    await expect.poll(() => alertIn(page, "form.vitals-range").textContent()).toContain("from 1 to 300");

    const recipients = page.locator("form.alert-recipients");
    await recipients.getByText("Nobody is alerted").waitFor();
    await recipients.getByRole("button", { name: "Add to the alerts" }).click();
    await expect.poll(() => alertIn(page, "form.alert-recipients").textContent()).toContain("Choose who");
    expect(wallet!.calls).not.toContain("eth_sendTransaction");

    await range.getByLabel("Diastolic at most").fill("90");
    await range.getByRole("button", { name: "Set the range" }).click();
    await waitIndexed(page, range);
    await expect
      .poll(() => range.locator("[data-range=current]").textContent())
      .toContain("systolic 90–140 mmHg, diastolic 60–90 mmHg");
    expect(await read("VitalsMonitor", "rangeOf", [patient.address])).toEqual([90, 140, 60, 90]);

    await recipients.getByLabel("Alert also").selectOption(doctor.address);
    await recipients.getByRole("button", { name: "Add to the alerts" }).click();
    await waitIndexed(page, recipients);
    const stop = recipients.getByRole("button", { name: `Stop alerting ${doctor.address.toLowerCase()}` });
    await stop.waitFor();
    expect(await read("VitalsMonitor", "alertRecipientsOf", [patient.address])).toEqual([doctor.address]);
    await checkPage(page, "patient-alerts-range");
    await page.context().close();

    // A fresh page shows the values from CareChain, not from the form's memory.
    const again = await patientPage();
    await again.page
      .locator("form.vitals-range [data-range=current]")
      .getByText("systolic 90–140 mmHg")
      .waitFor();
    await again.page
      .locator("form.alert-recipients")
      .getByRole("button", { name: `Stop alerting ${doctor.address.toLowerCase()}` })
      .waitFor();
    await again.page.context().close();
  }, 180_000);
});
