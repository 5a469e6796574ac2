// The load tools' configuration, parsed once at their entry points (seed.ts, run.ts) from the environment
// and the command line; nothing below reads process.env.
import { isAbsolute, resolve } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { ConfigError, parseConfig } from "@carechain/common";
import { z } from "zod";
import { cacheDir, repoRoot } from "./paths.ts";

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema.optional());

const envSchema = z.object({
  RPC_URL: optional(z.url()),
  DATABASE_URL: optional(z.string().regex(/^postgres(ql)?:\/\//, "a postgres:// URL")),
  KAFKA_BROKERS: optional(z.string().regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, "host:port[,host:port...]")),
  /** A contracts deployments file (deployments/<chainId>.json) to load instead of the load tests' own. */
  DEPLOYMENT_FILE: optional(z.string().min(1)),
  /** A gateway that already runs (it must read this deployment's projections); none is started then. */
  GATEWAY_URL: optional(z.url()),
  /** A k6 data file made earlier (viewers with tokens): k6 runs on it and nothing else is prepared. */
  K6_DATA_FILE: optional(z.string().min(1)),
  K6_BINARY: optional(z.string().min(1)),
  LOAD_SEED: z.string().min(1).default("carechain-load"),
  CARECHAIN_CACHE_DIR: optional(z.string().min(1)),
});

export type LoadEnv = {
  rpcUrl?: string;
  databaseUrl?: string;
  kafkaBrokers?: string[];
  deploymentFile?: string;
  gatewayUrl?: string;
  k6DataFile?: string;
  k6Binary?: string;
  seed: string;
  cache: string;
};

const absolute = (path: string) => (isAbsolute(path) ? path : resolve(process.cwd(), path));

export function loadEnv(env: Record<string, string | undefined>): LoadEnv {
  const e = parseConfig(envSchema, env, "load-tests");
  return {
    rpcUrl: e.RPC_URL,
    databaseUrl: e.DATABASE_URL,
    kafkaBrokers: e.KAFKA_BROKERS?.split(","),
    deploymentFile: e.DEPLOYMENT_FILE && absolute(e.DEPLOYMENT_FILE),
    gatewayUrl: e.GATEWAY_URL,
    k6DataFile: e.K6_DATA_FILE && absolute(e.K6_DATA_FILE),
    k6Binary: e.K6_BINARY,
    seed: e.LOAD_SEED,
    cache: e.CARECHAIN_CACHE_DIR ? resolve(repoRoot, e.CARECHAIN_CACHE_DIR) : cacheDir,
  };
}

const scale = z.coerce.number().positive().max(10);

export type SeedArgs = { scale: number; automine: boolean; verify: boolean };

export function seedArgs(argv: string[]): SeedArgs {
  const { values } = parse(argv, {
    scale: { type: "string", default: "0.1" },
    automine: { type: "boolean", default: false },
    verify: { type: "boolean", default: false },
  });
  return {
    scale: number(scale, values.scale as string, "--scale"),
    automine: !!values.automine,
    verify: !!values.verify,
  };
}

export type RunArgs = SeedArgs & {
  profile: "full" | "smoke";
  viewers: number;
  /** `--answer-cache off`: the gateway executes every request (to compare with the cache on). */
  answerCache: boolean;
  /**
   * `--block-time S`: anvil mines a block every S seconds while k6 runs (interval mining, as a real chain
   * does) instead of a block per transaction; automine again afterwards. Undefined: automine.
   */
  blockTime: number | undefined;
  /** Passed to k6 as -e NAME=value. */
  vars: Record<string, string>;
};

export function runArgs(argv: string[]): RunArgs {
  const { values } = parse(argv, {
    scale: { type: "string", default: "0.1" },
    automine: { type: "boolean", default: false },
    verify: { type: "boolean", default: false },
    profile: { type: "string", default: "full" },
    viewers: { type: "string", default: "200" },
    rate: { type: "string" },
    duration: { type: "string" },
    "legacy-vus": { type: "string" },
    "mixed-rate": { type: "string" },
    "write-rate": { type: "string" },
    "ramp-stages": { type: "string" },
    "ramp-hold": { type: "string" },
    scenarios: { type: "string" },
    "answer-cache": { type: "string", default: "on" },
    "block-time": { type: "string" },
  });
  if (values.profile !== "full" && values.profile !== "smoke") {
    throw new ConfigError(`--profile must be full or smoke (got ${values.profile})`);
  }
  if (values["answer-cache"] !== "on" && values["answer-cache"] !== "off") {
    throw new ConfigError(`--answer-cache must be on or off (got ${values["answer-cache"]})`);
  }
  const vars: Record<string, string> = {};
  const pass = [
    ["rate", "RATE"],
    ["duration", "DURATION"],
    ["legacy-vus", "LEGACY_VUS"],
    ["mixed-rate", "MIXED_RATE"],
    ["write-rate", "WRITE_RATE"],
    ["ramp-stages", "RAMP_STAGES"],
    ["ramp-hold", "RAMP_HOLD"],
    ["scenarios", "SCENARIOS"],
  ] as const;
  for (const [flag, name] of pass) {
    const value = values[flag];
    if (typeof value === "string") vars[name] = value;
  }
  return {
    scale: number(scale, values.scale as string, "--scale"),
    automine: !!values.automine,
    verify: !!values.verify,
    profile: values.profile as "full" | "smoke",
    viewers: number(z.coerce.number().int().min(1).max(5_000), values.viewers as string, "--viewers"),
    answerCache: values["answer-cache"] === "on",
    blockTime:
      values["block-time"] === undefined
        ? undefined
        : number(z.coerce.number().int().min(1).max(60), values["block-time"] as string, "--block-time"),
    vars,
  };
}

function parse(argv: string[], options: NonNullable<ParseArgsConfig["options"]>) {
  try {
    const { values } = parseArgs({ args: argv, options, allowPositionals: false, strict: true });
    return { values: values as Record<string, string | boolean | undefined> };
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
}

function number<T extends z.ZodType<number>>(schema: T, raw: string | undefined, flag: string): number {
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(`${flag}: ${parsed.error.issues[0]?.message ?? "invalid"} (got ${raw})`);
  return parsed.data as number;
}
