/**
 * Entry point of the webhook delivery service (`tsx delivery/src/main.ts`): the only place that reads the
 * environment. Exit codes: 0 after a signal, 1 on failure, 2 on invalid configuration.
 */
import { createCommon, runMain, startHealthServer } from "@carechain/common";
import { AuditLog, createDatabase, migrateGatewaySchema } from "@carechain/gateway";
import { deliveryOptionsFromEnv } from "./config.ts";
import { DATABASE_CONNECTIONS, startDeliveryService } from "./service.ts";

runMain(
  async (ctx) => {
    const { options, logLevel } = deliveryOptionsFromEnv(ctx.env);
    const common = createCommon("delivery", options, { logLevel });
    ctx.onStop((reason) => common.shutdown.run(reason));
    const { logger } = common;
    const db = createDatabase({
      url: options.databaseUrl,
      projectionSchema: options.projectionSchema,
      gatewaySchema: options.gatewaySchema,
      max: DATABASE_CONNECTIONS,
      applicationName: "carechain-delivery",
    });
    common.shutdown.add("database", () => db.close());
    // The outbox tables are the gateway's (003_webhooks.sql): whoever starts first migrates.
    await migrateGatewaySchema(db);
    const refused = common.metrics.counter("delivery_audit_refused_total", "Audit entries refused.", [
      "reason",
    ]);
    const audit = new AuditLog({ db, logger, onRefused: (count, reason) => refused.inc({ reason }, count) });
    // Registered before the service, so it runs after it: the last decisions' entries are stored.
    common.shutdown.add("audit log", () => audit.stop());
    if (options.retrySchedule.reduce((sum, wait) => sum + wait, 0) < 24 * 3_600_000)
      logger.warn("DELIVERY_RETRY_SCHEDULE totals less than 24 h: receivers down for a day lose events");
    let sends = 0;
    const kill = options.killAfterSends;
    const service = startDeliveryService(
      common,
      { db, audit },
      {
        ...options,
        // Test hook: die like `kill -9` with a POST answered and its outcome not recorded.
        afterPost: kill ? () => void (++sends === kill && process.kill(process.pid, "SIGKILL")) : undefined,
      },
    );
    common.shutdown.add("delivery", () => service.stop());
    const server = await startHealthServer({
      port: options.port,
      host: options.host,
      metrics: common.metrics,
      checks: service.checks,
    });
    common.shutdown.add("health server", server.close);
    logger.info(
      { url: server.url, instance: service.instanceId, senders: options.senders },
      "delivery service running; health and metrics server listening",
    );
  },
  { entry: import.meta.url },
);
