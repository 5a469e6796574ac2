// Kafka's jars: resolved from Maven Central by the pinned stack/kafka/pom.xml and copied ONCE into
// <cache>/kafka/<version>/libs. A marker file holding the pom's hash records a finished copy, so later
// starts never call Maven; a changed pom fetches again.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { MissingToolError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { type ManagedProcess, runTool } from "./processes.ts";

export const kafkaPom = fileURLToPath(new URL("../kafka/pom.xml", import.meta.url));
export const kafkaLog4jConfig = fileURLToPath(new URL("../kafka/log4j2.properties", import.meta.url));

export const JAVA_HINT =
  "Kafka needs Java 17+: apt-get install openjdk-17-jre-headless, or set KAFKA_BROKERS";
export const MAVEN_HINT =
  "Kafka's jars are fetched once with Maven: apt-get install maven, or set KAFKA_BROKERS";
const FETCH_TIMEOUT_MS = 10 * 60_000;

export interface KafkaInstall {
  version: string;
  libsDir: string;
  /** True when this call ran Maven. */
  fetched: boolean;
}

export interface EnsureKafkaOptions {
  cacheDir: string;
  logFile: string;
  log: Logger;
  register: (process: ManagedProcess) => void;
  /** The Maven program (tests point it elsewhere). */
  mavenCommand?: string;
}

/** The Kafka version pinned in the pom (the one place it is written down). */
export function kafkaVersion(pom = readFileSync(kafkaPom, "utf8")): string {
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (!version) throw new Error(`${kafkaPom} has no <kafka.version> property`);
  return version;
}

export async function ensureKafkaLibs(options: EnsureKafkaOptions): Promise<KafkaInstall> {
  const pom = readFileSync(kafkaPom, "utf8");
  const version = kafkaVersion(pom);
  const pomHash = createHash("sha256").update(pom).digest("hex");
  const home = join(options.cacheDir, "kafka", version);
  const libsDir = join(home, "libs");
  const marker = join(home, "complete");
  if (readIfExists(marker) === pomHash) return { version, libsDir, fetched: false };

  options.log.info(`fetching Kafka ${version} jars from Maven Central (once; log: ${options.logFile})`);
  // Copy into a private folder and rename it into place, so a concurrent start never sees half a copy.
  const partial = join(home, `libs.partial-${process.pid}-${randomBytes(3).toString("hex")}`);
  mkdirSync(home, { recursive: true });
  try {
    await runTool(
      {
        name: "maven",
        command: options.mavenCommand ?? "mvn",
        args: [
          "-q",
          "-B",
          "-Dstyle.color=never",
          "-f",
          kafkaPom,
          "dependency:copy-dependencies",
          `-DoutputDirectory=${partial}`,
        ],
        cwd: home,
        logFile: options.logFile,
        missingHint: MAVEN_HINT,
      },
      { timeoutMs: FETCH_TIMEOUT_MS, retryable: true, register: options.register },
    );
    if (readIfExists(marker) !== pomHash) {
      rmSync(libsDir, { recursive: true, force: true });
      renameSync(partial, libsDir);
      writeFileSync(marker, pomHash);
    }
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return { version, libsDir, fetched: true };
}

/** Throws a MissingToolError with the install line unless `java` 17 or newer is on the PATH. */
export async function checkJava(javaCommand = "java"): Promise<void> {
  let output: string;
  try {
    const { stdout, stderr } = await promisify(execFile)(javaCommand, ["-version"], { timeout: 30_000 });
    output = `${stderr}${stdout}`;
  } catch (error) {
    throw new MissingToolError(JAVA_HINT, { cause: error });
  }
  // `version "17.0.15"`, or `version "1.8.0_402"` for Java 8.
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  const major = match ? (match[1] === "1" ? Number(match[2]) : Number(match[1])) : 0;
  if (major < 17) throw new MissingToolError(`${JAVA_HINT} (found: ${output.split("\n")[0]?.trim()})`);
}

function readIfExists(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
}
