// Test kit of the delivery service: a test database (projection + gateway schema, as the gateway's tests
// have), the world a webhook needs (an organization with a grant from a patient), subscriptions written as
// rows, real HTTP receivers on 127.0.0.1, and services started in process.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createCommon, createSilentLogger, type Logger } from "@carechain/common";
import { AuditLog, createDatabase, type Database, migrateGatewaySchema } from "@carechain/gateway";
import { createTestDatabase, Fixtures, lower, newAccount } from "@carechain/gateway/testing";
import { createSubscription } from "@carechain/gateway/webhooks";
import { getStack } from "@carechain/stack/testing";
import { parseRetrySchedule } from "./config.ts";
import {
  DATABASE_CONNECTIONS,
  type DeliveryService,
  type ServiceOptions,
  startDeliveryService,
} from "./service.ts";

export type Harness = {
  db: Database;
  fixtures: Fixtures;
  /** Services started with `start`, stopped by `close`. */
  start(options?: Partial<ServiceOptions>): DeliveryService;
  close(): Promise<void>;
};

/**
 * The delivery service in process over the schemas of a test database, on a pool and audit log of its own
 * (sized as main.ts sizes them), with short waits for tests.
 * Its `stop` also closes them.
 */
export function startTestDelivery(
  schemas: Pick<Database, "projectionSchema" | "gatewaySchema">,
  options: Partial<ServiceOptions> = {},
  logger: Logger = createSilentLogger(),
): DeliveryService {
  const common = createCommon("delivery-test", {}, { logger });
  const senders = options.senders ?? 4;
  const own = createDatabase({
    url: getStack().databaseUrl,
    projectionSchema: schemas.projectionSchema,
    gatewaySchema: schemas.gatewaySchema,
    max: DATABASE_CONNECTIONS,
  });
  const audit = new AuditLog({ db: own, logger: common.logger });
  const service = startDeliveryService(
    common,
    { db: own, audit },
    {
      senders,
      timeoutMs: 2_000,
      retrySchedule: parseRetrySchedule("50ms,100ms,200ms"),
      allowPrivateUrls: true,
      pollMs: 100,
      leaseMs: 5_000,
      stallAfterMs: 10_000,
      statsIntervalMs: 200,
      ...options,
    },
  );
  const stop = service.stop;
  service.stop = async () => {
    await stop();
    await audit.stop();
    await own.close();
  };
  return service;
}

/** `logger`: the services' (silent unless given: the bench prints warnings with BENCH_LOG). */
export async function createHarness(logger?: Logger): Promise<Harness> {
  const { db, drop } = await createTestDatabase();
  await migrateGatewaySchema(db);
  const fixtures = new Fixtures(db);
  const services = new Set<DeliveryService>();
  return {
    db,
    fixtures,
    start(options = {}) {
      const service = startTestDelivery(db, options, logger);
      const stop = service.stop;
      services.add(service);
      service.stop = async () => {
        services.delete(service);
        await stop();
      };
      return service;
    },
    async close() {
      for (const service of [...services]) await service.stop();
      await drop();
    },
  };
}

/** A patient, a doctor (records' author) and an insurer the patient granted `scopes` (7: everything). */
export async function world(fixtures: Fixtures, options: { scopes?: number; patients?: number } = {}) {
  const organization = await fixtures.organization(newAccount().address, { kind: 2, block: 3 });
  const doctor = await fixtures.doctor(newAccount().address, { block: 2 });
  const patients: Awaited<ReturnType<Fixtures["patient"]>>[] = [];
  for (let i = 0; i < (options.patients ?? 1); i++) {
    const patient = await fixtures.patient(newAccount().address, { block: 1 });
    await fixtures.grant({ patient, grantee: organization, scopes: options.scopes ?? 7, block: 100 });
    patients.push(patient);
  }
  return { organization, doctor, patients, patient: patients[0]! };
}

export type Subscription = { id: string; secret: string };

/** A subscription as the gateway's mutation creates it (the subscriptions store): from the feed's end now. */
export async function subscribe(
  db: Database,
  options: { owner: string; url: string; types?: string[]; patients?: string[] | null },
): Promise<Subscription> {
  const { subscription, secret } = await createSubscription(
    db,
    lower(options.owner),
    {
      url: options.url,
      types: options.types ?? ["RECORD_ADDED", "RECORD_AMENDED", "READING_REPORTED", "ALERT_RAISED"],
      patients: options.patients ?? null,
    },
    { allowPrivateUrls: true, maxSubscriptions: 1000 },
  );
  return { id: subscription.id, secret };
}

export type Received = { headers: IncomingHttpHeaders; body: string; id: string; at: number };

/**
 * A webhook receiver on 127.0.0.1: answers `status` (a number or a function of the request) after
 * `delayMs`; `down()` closes it (connections refused), `up()` listens again on the same port.
 */
export class Receiver {
  readonly received: Received[] = [];
  status: number | ((received: Received) => number) = 200;
  delayMs = 0;
  private server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor() {
    this.server = this.create();
  }

  private create(): Server {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const received = {
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          id: String(req.headers["webhook-id"]),
          at: Date.now(),
        };
        const status = typeof this.status === "function" ? this.status(received) : this.status;
        if (status >= 200 && status < 300) this.received.push(received);
        setTimeout(() => res.writeHead(status).end("ok"), this.delayMs);
      });
    });
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Ids accepted (2xx), in arrival order. */
  get ids(): string[] {
    return this.received.map((r) => r.id);
  }

  async up(): Promise<this> {
    if (this.server.listening) return this;
    if (this.port !== 0) this.server = this.create();
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.port, "127.0.0.1", resolve);
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async down(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

export async function receiver(): Promise<Receiver> {
  return new Receiver().up();
}

/** Waits until `condition()` holds (async), checked every 25 ms. */
export async function eventually(
  condition: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The subscription's outbox rows by status. */
export async function deliveries(db: Database, subscriptionId: string) {
  return db.query<{ seq: string; event_id: string; status: string; attempts: number; patient: string }>(
    `SELECT seq::text, event_id, status, attempts, patient FROM ${db.gateway}.webhook_deliveries
      WHERE subscription_id = $1 ORDER BY seq`,
    [subscriptionId],
  );
}
