import { describe, expect, test } from "vitest";
import { z } from "zod";
import { buildEnv, envVariables, parseConfig, portVar, sharedEnv } from "./config.ts";
import { ConfigError } from "./errors.ts";

const schema = z.object({
  DATABASE_URL: z.string().url(),
  PORT: z.coerce.number().int().positive().default(4000),
});

describe("parseConfig", () => {
  test("default", () => {
    expect(parseConfig(schema, { DATABASE_URL: "postgres://127.0.0.1/x" }, "svc")).toEqual({
      DATABASE_URL: "postgres://127.0.0.1/x",
      PORT: 4000,
    });
  });

  test("error: names every variable to set", () => {
    let error: unknown;
    try {
      parseConfig(schema, { PORT: "-1" }, "svc");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain("Invalid configuration for svc");
    expect(message).toContain("- DATABASE_URL:");
    expect(message).toContain("it is not set");
    expect(message).toContain("- PORT:");
    expect(message).toContain('got "-1"');
    expect((error as ConfigError).retryable).toBe(false);
  });
});

describe("buildEnv", () => {
  const service = z.object({
    DATABASE_URL: sharedEnv.DATABASE_URL,
    KAFKA_BROKERS: sharedEnv.KAFKA_BROKERS,
    PORT: portVar(4000),
  });

  test("default: writes every given value as a string and leaves out undefined ones", () => {
    expect(
      buildEnv(service, { DATABASE_URL: "postgres://h/db", KAFKA_BROKERS: "h:9092", PORT: 0 }, "svc"),
    ).toEqual({ DATABASE_URL: "postgres://h/db", KAFKA_BROKERS: "h:9092", PORT: "0" });
    expect(
      buildEnv(service, { DATABASE_URL: "postgres://h/db", KAFKA_BROKERS: "h:9092", PORT: undefined }, "svc"),
    ).toEqual({ DATABASE_URL: "postgres://h/db", KAFKA_BROKERS: "h:9092" });
  });

  test("error: a value the service would refuse fails here, naming the variable", () => {
    expect(() => buildEnv(service, { DATABASE_URL: "mysql://h/db", KAFKA_BROKERS: "h:9092" }, "svc")).toThrow(
      /DATABASE_URL: expected a postgres:\/\/ URL/,
    );
  });

  test("behavior: a variable the schema does not declare is a type error", () => {
    // @ts-expect-error KAFKA_BROKER is not a variable of this service
    const build = () => buildEnv(service, { DATABASE_URL: "postgres://h/db", KAFKA_BROKER: "h:9092" }, "svc");
    expect(build).toThrow(/KAFKA_BROKERS/);
  });
});

describe("envVariables", () => {
  test("default: objects and intersections", () => {
    const a = z.object({ A: z.string(), B: z.string().optional() });
    const b = z.object({ C: z.string() }).refine(() => true);
    expect(envVariables(a)).toEqual(["A", "B"]);
    expect(envVariables(z.intersection(a, b))).toEqual(["A", "B", "C"]);
  });
});
