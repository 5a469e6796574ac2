import { defineConfig } from "vitest/config";

// One run for the whole repo: the local stack (anvil, PostgreSQL, Kafka) starts once in the global
// setup and every integration test isolates itself with its own database schema, topics and accounts.
export default defineConfig({
  test: {
    include: [
      "*/src/**/*.test.ts",
      "examples/*/src/**/*.test.ts",
      "*/test/**/*.test.ts",
      "contracts/ts/**/*.test.ts",
      "scripts/**/*.test.ts",
    ],
    exclude: ["**/node_modules/**", "**/.cache/**"],
    globalSetup: ["./stack/src/vitest-global-setup.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ["default", "./scripts/vitest-summary-reporter.ts"],
  },
});
