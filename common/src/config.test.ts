import { describe, expect, test } from "vitest";
import { z } from "zod";
import { parseConfig } from "./config.ts";
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
