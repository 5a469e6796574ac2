// The patient shares its documents' keys with a doctor it granted READ_RECORDS, in real Chromium on the real
// system: a document added before the grant is wrapped for the patient and its author only, so the new
// grantee sees the record but cannot open its document until the patient shares (unwrapped and wrapped again
// in the patient's browser, posted to the gateway); the grant form shares by default.
import { readFileSync } from "node:fs";
import { scopes } from "@carechain/contracts/codes";
import type { Actor } from "@carechain/contracts/testing";
import type { Page } from "playwright-core";
import { getAddress } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  checkPage,
  grantIndexed,
  note,
  openPage,
  pageActor,
  signIn,
  startWebSystem,
  stopWebSystem,
  type WebSystem,
  waitIndexed,
} from "./system-fixture.ts";

let running: WebSystem["running"];
let webUrl: string;
let author: Actor;
let patient: Actor;
let reader: Actor;
let laterReader: Actor;

beforeAll(async () => {
  const web = await startWebSystem("webshare");
  running = web.running;
  webUrl = web.web.url;
  [author, patient, reader, laterReader] = await Promise.all([
    running.fixture.createActor("verifiedDoctor"),
    pageActor("patient"),
    pageActor("doctor"),
    pageActor("doctor"),
  ]);
  await grantIndexed(patient, author, scopes.READ_RECORDS | scopes.WRITE_RECORDS);
}, 240_000);

afterAll(async () => {
  await stopWebSystem();
}, 120_000);

/** A doctor's page on the patient's chart, its first document opened: the text, or what the page says instead. */
async function openAsDoctor(doctor: Actor): Promise<{ text?: string; said?: string }> {
  const { page } = await openPage({ privateKey: doctor.privateKey });
  try {
    await signIn(page);
    await page.getByRole("heading", { name: "My patients" }).waitFor();
    await page.goto(`${webUrl}/#/patient/${patient.address}`);
    await page.getByRole("button", { name: "Open document" }).first().click();
    const verdict = page.locator('[data-document="verified"], .notice-error').first();
    await verdict.waitFor({ timeout: 30_000 });
    if ((await verdict.getAttribute("data-document")) !== "verified")
      return { said: (await verdict.textContent()) ?? "" };
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Save the document" }).first().click(),
    ]);
    return { text: readFileSync((await download.path())!, "utf8") };
  } finally {
    await page.context().close();
  }
}

async function patientPage(): Promise<Page> {
  const { page } = await openPage({ privateKey: patient.privateKey });
  await signIn(page);
  await page.getByRole("heading", { name: "My health record" }).waitFor();
  return page;
}

/** Gives `doctor` the form's default scopes (records and vitals) from the patient's page. */
async function grantFromForm(page: Page, doctor: Actor, share: boolean) {
  const form = page.locator('form[aria-labelledby="grant-title"]');
  await form.getByLabel("Doctor", { exact: true }).selectOption(getAddress(doctor.address));
  const shareBox = form.getByLabel("Share my documents with the doctor");
  expect(await shareBox.isChecked(), "sharing is on by default").toBe(true);
  if (!share) await shareBox.uncheck();
  await form.getByRole("button", { name: "Give access" }).click();
  await waitIndexed(page, form);
  return form;
}

describe("share: the patient's documents with a new grantee", () => {
  test("behavior: a doctor granted after a document was added cannot open it; after the patient shares, it opens and reads the text", async () => {
    const words = `Discharge letter ${Date.now()}: continue the treatment for two weeks.`;
    const asAuthor = await openPage({ privateKey: author.privateKey });
    await signIn(asAuthor.page);
    await asAuthor.page.getByRole("heading", { name: "My patients" }).waitFor();
    await asAuthor.page.goto(`${webUrl}/#/patient/${patient.address}`);
    await asAuthor.page.getByRole("heading", { name: "Add a record" }).waitFor();
    await asAuthor.page.getByLabel("Document", { exact: true }).setInputFiles(note(words));
    await asAuthor.page.getByRole("button", { name: "Add the record" }).click();
    await waitIndexed(asAuthor.page);
    await asAuthor.page.context().close();

    // Granted without sharing: the grantee reads the record but the page says its document was not shared.
    const page = await patientPage();
    await grantFromForm(page, reader, false);
    const before = await openAsDoctor(reader);
    expect(before.text).toBeUndefined();
    expect(before.said).toContain("This document was not shared with you: ask the patient to share it.");

    const row = page
      .locator("ul.grants > li")
      .filter({ has: page.locator(`code[title="${reader.address}" i]`) });
    const started = Date.now();
    await row.getByRole("button", { name: "Share documents" }).click();
    const done = row.locator('[data-share="done"]');
    await done.waitFor({ timeout: 30_000 });
    process.stdout.write(
      `[web e2e] share click to done (1 document, wallet signature included): ${Date.now() - started} ms\n`,
    );
    expect(await done.textContent()).toBe(`1 of 1 documents shared with ${getAddress(reader.address)}.`);
    await checkPage(page, "patient-shared-documents");
    await page.context().close();

    expect(await openAsDoctor(reader)).toEqual({ text: words });
  }, 300_000);

  test("behavior: the grant form shares the patient's documents by default once the grant is visible", async () => {
    const page = await patientPage();
    const form = await grantFromForm(page, laterReader, true);
    const done = form.locator('[data-share="done"]');
    await done.waitFor({ timeout: 30_000 });
    expect(await done.textContent()).toBe(`1 of 1 documents shared with ${getAddress(laterReader.address)}.`);
    await page.context().close();
    expect((await openAsDoctor(laterReader)).text).toMatch(/^Discharge letter \d+: continue the treatment/);
  }, 240_000);
});
