// Apache Kafka 4 as one KRaft node (broker and controller in one JVM), on 127.0.0.1 with free ports.
// Its settings let kafkajs use idempotent and transactional producers and consumer groups on one node.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { HealthCheckError } from "./errors.ts";
import { checkJava, ensureKafkaLibs, kafkaLog4jConfig } from "./kafka-install.ts";
import type { Logger } from "./logger.ts";
import { choosePort, HOST, isListening } from "./ports.ts";
import { ManagedProcess, runTool } from "./processes.ts";

export interface StartKafkaOptions {
  port: number | undefined;
  /** Ports to take when free (a persistent stack's previous ones): the broker's unless `port` is set. */
  preferredPorts?: { broker?: number; controller?: number };
  /** Reuse the formatted storage in `<dataDir>/kafka/data` (its cluster id, topics and offsets). */
  persist?: boolean;
  cacheDir: string;
  dataDir: string;
  logFile: string;
  /** Where the one-off Maven fetch logs. */
  mavenLogFile: string;
  timeoutMs: number;
  log: Logger;
  signal?: AbortSignal;
  register: (process: ManagedProcess) => void;
}

// A small, quick-starting JVM: one GC thread, C1 only, the JDK's class data sharing archive.
const JVM_FLAGS = [
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-Xshare:auto",
  "-XX:-UsePerfData",
  "-Djava.awt.headless=true",
  `-Dlog4j2.configurationFile=${kafkaLog4jConfig}`,
];

export async function startKafka(options: StartKafkaOptions) {
  const [install, brokerPort, controllerPort] = await Promise.all([
    ensureKafkaLibs({
      cacheDir: options.cacheDir,
      logFile: options.mavenLogFile,
      log: options.log,
      register: options.register,
    }),
    choosePort(options.port, "kafka", "KAFKA_PORT", options.preferredPorts?.broker),
    choosePort(undefined, "kafka controller", "", options.preferredPorts?.controller),
    checkJava(),
  ]);
  const home = join(options.dataDir, "kafka");
  const logDir = join(home, "data");
  mkdirSync(home, { recursive: true });
  const propertiesFile = join(home, "server.properties");
  writeFileSync(propertiesFile, serverProperties({ brokerPort, controllerPort, logDir }));
  const classpath = join(install.libsDir, "*");

  // Kafka 4 only starts on formatted storage; --standalone makes this node the whole controller quorum.
  // Kept storage (meta.properties written by the format) is started as it is, with its cluster id.
  const formatted = options.persist === true && existsSync(join(logDir, "meta.properties"));
  if (!formatted) rmSync(logDir, { recursive: true, force: true });
  if (!formatted)
    await runTool(
      {
        name: "kafka-storage-format",
        command: "java",
        args: [
          "-Xmx256m",
          ...JVM_FLAGS,
          "-cp",
          classpath,
          "kafka.tools.StorageTool",
          "format",
          "--standalone",
          "--cluster-id",
          kafkaUuid(),
          "--config",
          propertiesFile,
        ],
        cwd: home,
        logFile: options.logFile,
      },
      { timeoutMs: options.timeoutMs, retryable: false, register: options.register },
    );

  const server = await ManagedProcess.spawn({
    name: "kafka",
    command: "java",
    args: ["-Xms256m", "-Xmx768m", ...JVM_FLAGS, "-cp", classpath, "kafka.Kafka", propertiesFile],
    cwd: home,
    logFile: options.logFile,
  });
  options.register(server);
  const brokers = [`${HOST}:${brokerPort}`];
  await server.waitUntil(
    async () => (await isListening(brokerPort, 500)) && (await listTopics(brokers, 2_000).then(() => true)),
    { what: "kafkajs admin listTopics to answer", timeoutMs: options.timeoutMs, signal: options.signal },
  );
  return {
    server,
    brokers,
    port: brokerPort,
    controllerPort,
    version: install.version,
    fetched: install.fetched,
  };
}

/** Health of any Kafka cluster: kafkajs admin `listTopics` answers. Returns the topic names. */
export async function checkKafka(brokers: string[], timeoutMs = 5_000): Promise<string[]> {
  try {
    return await listTopics(brokers, timeoutMs);
  } catch (error) {
    throw new HealthCheckError("kafka", `${brokers.join(",")} does not answer listTopics: ${String(error)}`, {
      cause: error,
    });
  }
}

export function serverProperties(ports: {
  brokerPort: number;
  controllerPort: number;
  logDir: string;
}): string {
  const broker = `${HOST}:${ports.brokerPort}`;
  const controller = `${HOST}:${ports.controllerPort}`;
  return `${[
    "# Written by stack/src/kafka.ts for one run of the local stack.",
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.bootstrap.servers=${controller}`,
    `listeners=PLAINTEXT://${broker},CONTROLLER://${controller}`,
    `advertised.listeners=PLAINTEXT://${broker},CONTROLLER://${controller}`,
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    `log.dirs=${ports.logDir}`,
    // Topics are created on purpose by whoever uses them, with the partition count they need.
    "auto.create.topics.enable=false",
    "num.partitions=1",
    // One node: every internal topic has one replica. One partition each keeps the first group join
    // and the first transaction fast (the defaults are 50 partitions each).
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "min.insync.replicas=1",
    // Consumers join at once instead of waiting 3 s for more members.
    "group.initial.rebalance.delay.ms=0",
  ].join("\n")}\n`;
}

async function listTopics(brokers: string[], timeoutMs: number): Promise<string[]> {
  const kafka = new Kafka({
    clientId: "carechain-stack-health",
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await admin.listTopics();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * A Kafka cluster id: 16 random bytes, base64url without padding (Kafka's Uuid text form). Never one that
 * starts with "-": the storage tool would read it as an option (Kafka's own Uuid.randomUuid skips those too).
 */
export function kafkaUuid(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}
