import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { MissingToolError } from "./errors.ts";
import {
  checkJava,
  ensureKafkaLibs,
  JAVA_HINT,
  kafkaPom,
  kafkaVersion,
  MAVEN_HINT,
} from "./kafka-install.ts";
import { silentLogger } from "./logger.ts";

let cacheDir: string;
beforeEach(() => {
  cacheDir = mkdtempSync(join(tmpdir(), "stack-kafka-install-"));
});
afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));

const options = (mavenCommand: string) => ({
  cacheDir,
  logFile: join(cacheDir, "maven.log"),
  log: silentLogger,
  register: () => {},
  mavenCommand,
});

describe("kafka-install", () => {
  test("default: the Kafka version is the one pinned in stack/kafka/pom.xml, a 4.x", () => {
    expect(kafkaVersion()).toMatch(/^4\.\d+\.\d+$/);
  });

  test("behavior: once the marker matches the pom, Maven is not called at all", async () => {
    const home = join(cacheDir, "kafka", kafkaVersion());
    mkdirSync(join(home, "libs"), { recursive: true });
    const hash = createHash("sha256").update(readFileSync(kafkaPom)).digest("hex");
    writeFileSync(join(home, "complete"), hash);
    const install = await ensureKafkaLibs(options("carechain-no-such-mvn"));
    expect(install).toEqual({ version: kafkaVersion(), libsDir: join(home, "libs"), fetched: false });
  });

  test("error: without Maven, one line says what to install", async () => {
    const error = await ensureKafkaLibs(options("carechain-no-such-mvn")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingToolError);
    expect((error as Error).message).toBe(MAVEN_HINT);
    expect((error as MissingToolError).retryable).toBe(false);
  });

  test("error: without Java, one line says what to install", async () => {
    const error = await checkJava("carechain-no-such-java").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingToolError);
    expect((error as Error).message).toBe(JAVA_HINT);
    expect(JAVA_HINT).toBe(
      "Kafka needs Java 17+: apt-get install openjdk-17-jre-headless, or set KAFKA_BROKERS",
    );
  });
});
