import type { Logger } from "@carechain/common";
import { Kafka, type LogEntry, logLevel } from "kafkajs";

export type KafkaClientOptions = {
  clientId: string;
  brokers: string[];
  logger: Logger;
  /** kafkajs's own chatter below this level is dropped; default warn (its info lines are per connection). */
  level?: "error" | "warn" | "info" | "debug";
};

// kafkajs's text for the CONCURRENT_TRANSACTIONS protocol error (code 51); its log entries carry no code.
const CONCURRENT_TRANSACTIONS = "while another concurrent operation on the same transaction was ongoing";

const levels = { error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };

/**
 * A kafkajs client whose logs go through our structured logger, quietly: only the message, the broker and
 * the error text are kept (kafkajs entries can carry whole requests), under `component: "kafkajs"`.
 */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  const logger = options.logger.child({ component: "kafkajs" });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: levels[options.level ?? "warn"],
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
    logCreator: () => (entry: LogEntry) => {
      const { message, broker, error, groupId, topic } = entry.log as Record<string, unknown>;
      const fields = { namespace: entry.namespace, broker, topic, groupId, error };
      const text = String(message);
      // Failed responses are retried by kafkajs (a coordinator still loading...); its callers see what lasts.
      if (entry.namespace === "Connection") return logger.debug(fields, text);
      // Bounded retries are what we want: a failed transaction is aborted and ingest resumes from its
      // committed checkpoint, so no duplicate can come of it.
      if (text.startsWith("Limiting retries for the idempotent producer")) return;
      // CONCURRENT_TRANSACTIONS: the broker answers EndTxn before it has written the commit markers, and a
      // transaction begun right after (back to back while backfilling) is refused until it has. Expected
      // and retried by kafkajs (as by the Java client, which retries it silently): not an error.
      if (text.includes(CONCURRENT_TRANSACTIONS)) return logger.debug(fields, text);
      if (entry.level <= logLevel.ERROR) logger.error(fields, text);
      else if (entry.level === logLevel.WARN) logger.warn(fields, text);
      else if (entry.level === logLevel.INFO) logger.info(fields, text);
      else logger.debug(fields, text);
    },
  });
}
