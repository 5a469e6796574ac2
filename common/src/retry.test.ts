import { describe, expect, test } from "vitest";
import { NonRetryableError, RetryableError } from "./errors.ts";
import { withRetry } from "./retry.ts";

describe("withRetry", () => {
  test("default: retries a retryable error until it succeeds", async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new RetryableError("flaky");
        return "ok";
      },
      { retries: 5, initialDelayMs: 1 },
    );
    expect(result).toBe("ok");
    expect(calls).toBe(3);
  });

  test("behavior: a non-retryable error is thrown at once", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new NonRetryableError("bad input");
        },
        { retries: 5, initialDelayMs: 1 },
      ),
    ).rejects.toThrow("bad input");
    expect(calls).toBe(1);
  });

  test("error: gives up after the last retry", async () => {
    const retries: number[] = [];
    await expect(
      withRetry(
        async () => {
          throw new RetryableError("down");
        },
        { retries: 2, initialDelayMs: 1, onRetry: ({ attempt }) => retries.push(attempt) },
      ),
    ).rejects.toThrow("down");
    expect(retries).toEqual([1, 2]);
  });
});
