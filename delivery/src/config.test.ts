import { ConfigError } from "@carechain/common";
import { describe, expect, test } from "vitest";
import {
  defaultRetrySchedule,
  deliveryEnvironment,
  deliveryOptionsFromEnv,
  parseRetrySchedule,
} from "./config.ts";

const base = { DATABASE_URL: "postgres://u:p@127.0.0.1:5432/db" };

describe("config", () => {
  test("default: the gateway's schema names, 256 senders, a schedule of more than a day, private URLs refused", () => {
    const { options } = deliveryOptionsFromEnv(base);
    expect(options).toMatchObject({
      projectionSchema: "carechain",
      gatewaySchema: "gateway",
      senders: 256,
      timeoutMs: 10_000,
      allowPrivateUrls: false,
    });
    expect(options.retrySchedule).toEqual(parseRetrySchedule(defaultRetrySchedule));
    expect(options.retrySchedule.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(24 * 3_600_000);
  });

  test("args: a compressed schedule, private URLs allowed, built from typed values", () => {
    const env = deliveryEnvironment({
      ...base,
      DELIVERY_RETRY_SCHEDULE: "50ms,1s,2m,1h",
      DELIVERY_ALLOW_PRIVATE_URLS: true,
      DELIVERY_SENDERS: 4,
    });
    const { options } = deliveryOptionsFromEnv(env);
    expect(options.retrySchedule).toEqual([50, 1_000, 120_000, 3_600_000]);
    expect(options.allowPrivateUrls).toBe(true);
    expect(options.senders).toBe(4);
  });

  test("error: every wrong variable is named with what to set", () => {
    const parse = () =>
      deliveryOptionsFromEnv({
        DELIVERY_SENDERS: "0",
        DELIVERY_RETRY_SCHEDULE: "5s,soon",
        DELIVERY_ALLOW_PRIVATE_URLS: "yes",
        PROJECTION_SCHEMA: "Bad-Name",
      });
    expect(parse).toThrow(ConfigError);
    const message = (() => {
      try {
        parse();
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toMatch(/DATABASE_URL: .*it is not set/);
    expect(message).toMatch(/DELIVERY_SENDERS: .*\(got "0"\)/);
    expect(message).toMatch(/DELIVERY_RETRY_SCHEDULE: "soon" is not a wait/);
    expect(message).toMatch(/DELIVERY_ALLOW_PRIVATE_URLS: true or false/);
    expect(message).toMatch(/PROJECTION_SCHEMA: a lower-case PostgreSQL schema name/);
  });
});
