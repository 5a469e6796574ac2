// Debian's Chromium driven by playwright-core, headless and without the sandbox (tests run as root).
// The project's own script installs Chromium when it is missing, as ensure-docker-compose.sh does for Compose.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

const root = fileURLToPath(new URL("../../../", import.meta.url));
export const screenshotsDir = fileURLToPath(new URL("../../.screenshots/", import.meta.url));

export function chromiumPath(env: Record<string, string | undefined> = process.env): string {
  if (env.CHROMIUM_PATH) return env.CHROMIUM_PATH;
  return execFileSync("bash", [`${root}scripts/ensure-chromium.sh`], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export type AxeViolation = { id: string; impact: string | null; help: string; nodes: number };

/** Serious and critical accessibility violations on the page as it is now (axe-core, WCAG 2 A/AA). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') does not block it.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    type Result = { violations: { id: string; impact: string | null; help: string; nodes: unknown[] }[] };
    const { axe, document } = globalThis as unknown as {
      axe: { run: (context: unknown, options: object) => Promise<Result> };
      document: unknown;
    };
    const result = await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.length,
    }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** The page at desktop and phone widths, into web/.screenshots/<name>-{desktop,phone}.png. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotsDir, { recursive: true });
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: `${screenshotsDir}${name}-desktop.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${screenshotsDir}${name}-phone.png`, fullPage: true });
  await page.setViewportSize(size);
}
