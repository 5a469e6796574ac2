// The browser tests' setup, shared by every e2e file: the real system (startTestSystem: contracts, ingest,
// projector, gateway on the test run's anvil, PostgreSQL and Kafka), the web server on the built page, Debian's
// Chromium, and pages opened with a test wallet. One system per test file (vitest gives each file its own
// module state).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { hashText } from "@carechain/contracts";
import type { Actor } from "@carechain/contracts/testing";
import { encryptionPublicKey } from "@carechain/documents/browser";
import { getStack } from "@carechain/stack/testing";
import { startTestSystem, type TestSystem } from "@carechain/system/testing";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { bytesToHex, type Hex, hexToBytes, keccak256, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { expect } from "vitest";
import { startWebServer, type WebServer } from "../server/serve.ts";
import { ENCRYPTION_KEY_MESSAGE } from "../wallet/encryption-key.ts";
import { launchChromium, screenshots, seriousViolations } from "./browser.ts";
import { installTestWallet, type TestWalletOptions } from "./test-wallet.ts";

const distDir = fileURLToPath(new URL("../../dist", import.meta.url));

export type WebSystem = { running: TestSystem; web: WebServer; browser: Browser; chainId: number };

let current: WebSystem | undefined;
const contexts: BrowserContext[] = [];
/** Milliseconds from a mined transaction to the page showing it, per write. */
const indexedMs: number[] = [];

const started = (): WebSystem => {
  if (!current) throw new Error("startWebSystem() first (in beforeAll).");
  return current;
};

export async function startWebSystem(label: string): Promise<WebSystem> {
  if (!existsSync(`${distDir}/index.html`))
    throw new Error("No build of the web app: run `npm run build -w @carechain/web` first (npm test does).");
  const rpcUrl = getStack().rpcUrl;
  const running = await startTestSystem({
    label,
    log: { info: () => {}, warn: () => {}, error: (m: string) => process.stderr.write(`[web e2e] ${m}\n`) },
  });
  const { system, fixture } = running;
  const contracts = system.deployment.contracts;
  const web = await startWebServer({
    distDir,
    port: 0,
    config: {
      gatewayUrl: system.gatewayUrl,
      rpcUrl,
      chainId: fixture.chainId,
      chainName: "CareChain test",
      contracts: {
        identityRegistry: contracts.IdentityRegistry.address,
        consentManager: contracts.ConsentManager.address,
        recordRegistry: contracts.RecordRegistry.address,
        vitalsMonitor: contracts.VitalsMonitor.address,
      },
    },
  });
  current = { running, web, browser: await launchChromium(), chainId: fixture.chainId };
  return current;
}

export async function stopWebSystem(): Promise<void> {
  if (indexedMs.length > 0)
    process.stdout.write(`[web e2e] mined -> shown in the page, ms: ${indexedMs.join(", ")}\n`);
  for (const context of contexts) await context.close().catch(() => {});
  await current?.browser.close();
  await current?.web.close();
  await current?.running.stop();
  current = undefined;
}

/** A fresh funded account (the test run's anvil accounts are shared by every test file). */
export async function fundedKey(ether = "10"): Promise<Hex> {
  const key = generatePrivateKey();
  await started().running.fixture.testClient.setBalance({
    address: privateKeyToAccount(key).address,
    value: parseEther(ether),
  });
  return key;
}

/**
 * A patient or a doctor registered with the document key the page derives from its wallet's signature, so
 * that the page opens the documents wrapped for it.
 */
export async function pageActor(role: "patient" | "doctor"): Promise<Actor> {
  const actor = await started().running.fixture.createActor("unregistered");
  const signature = await privateKeyToAccount(actor.privateKey).signMessage({
    message: ENCRYPTION_KEY_MESSAGE,
  });
  const encryptionKey = bytesToHex(encryptionPublicKey(hexToBytes(keccak256(signature))));
  const profileHash = hashText(`profile ${actor.address}`);
  if (role === "patient") await actor.client.registerPatient({ profileHash, encryptionKey });
  else
    await actor.client.registerDoctor({
      profileHash,
      encryptionKey,
      licenseHash: hashText(`licence ${actor.address}`),
    });
  return actor;
}

/** `patient` grants `grantee` these scopes on chain; resolves once the system has indexed everything so far. */
export async function grantIndexed(patient: Actor, grantee: Actor, grantScopes: number): Promise<void> {
  await patient.client.grantAccess({ grantee: grantee.address, scopes: grantScopes });
  await started().running.system.waitForCatchUp(60_000);
}

/** A small text file for a record's Document input. */
export const note = (words: string) => ({
  name: "note.txt",
  mimeType: "text/plain",
  buffer: Buffer.from(words),
});

export async function openPage(wallet?: Omit<TestWalletOptions, "rpcUrl" | "chainId">) {
  const { browser, web, chainId } = started();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  // Bounded waits: a page that never shows what a test waits for fails the test, it does not hang it.
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const testWallet = wallet
    ? await installTestWallet(page, { ...wallet, rpcUrl: getStack().rpcUrl, chainId })
    : undefined;
  const opened = Date.now();
  await page.goto(web.url);
  await page.getByRole("heading", { level: 1 }).first().waitFor();
  return { page, wallet: testWallet, loadMs: Date.now() - opened };
}

export async function checkPage(page: Page, name: string) {
  expect(await seriousViolations(page), `accessibility of ${name}`).toEqual([]);
  await screenshots(page, name);
}

export async function connect(page: Page) {
  await page.getByRole("button", { name: "CareChain Test Wallet" }).click();
}

export async function signIn(page: Page) {
  await connect(page);
  await page.getByRole("button", { name: "Sign in with Ethereum" }).click();
}

/** The first write on the page (or within `scope`) shown as visible in CareChain. */
export async function waitIndexed(page: Page, scope: { locator(selector: string): Locator } = page) {
  const done = scope.locator('[data-write-state="indexed"]').first();
  try {
    await done.waitFor({ timeout: 90_000 });
  } catch (error) {
    // What the page said instead (its own words: no personal data in a test page).
    throw new Error(
      `the write did not show as indexed; the page says: ${await page.locator("main").textContent()}`,
      {
        cause: error,
      },
    );
  }
  indexedMs.push(Number(await done.getAttribute("data-indexed-ms")));
}

/** Records every write state shown inside `selector` (a state can last a few milliseconds). */
export async function watchWriteStates(page: Page, selector: string): Promise<void> {
  await page.evaluate((selector) => {
    // The page's globals, typed here: the tests compile without the DOM library.
    type Element = { textContent: string | null; querySelectorAll(selector: string): Iterable<Element> };
    const { document, MutationObserver } = globalThis as unknown as {
      document: { querySelector(selector: string): Element };
      MutationObserver: new (
        onChange: () => void,
      ) => { observe(target: Element, options: Record<string, boolean>): void };
    };
    const seen: string[] = [];
    (globalThis as unknown as { seenStates: string[] }).seenStates = seen;
    const watched = document.querySelector(selector);
    new MutationObserver(() => {
      for (const notice of watched.querySelectorAll(".notice")) {
        const text = notice.textContent ?? "";
        if (seen.at(-1) !== text) seen.push(text);
      }
    }).observe(watched, { subtree: true, childList: true, characterData: true });
  }, selector);
}

/** The states watchWriteStates saw were: waiting for the wallet, sent, mined, visible in CareChain, in order. */
export async function expectWriteStatesInOrder(page: Page): Promise<void> {
  const seen = await page.evaluate(() => (globalThis as unknown as { seenStates: string[] }).seenStates);
  const order = ["Waiting for your wallet", "Sent (", "Mined", "Done: visible in CareChain"].map((words) =>
    seen.findIndex((text) => text.includes(words)),
  );
  expect(
    order.every((index) => index >= 0),
    `states seen: ${seen.join(" | ")}`,
  ).toBe(true);
  expect([...order].sort((a, b) => a - b)).toEqual(order);
}
