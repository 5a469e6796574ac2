// The web server's environment: one zod schema, parsed once in main.ts; `webEnvironment` builds it from
// typed values for whoever starts the server (npm start, docker-compose checks).
import { fileURLToPath } from "node:url";
import { buildEnv, type EnvValues, parseConfig, portVar } from "@carechain/common";
import { z } from "zod";

const httpUrl = z.url({ protocol: /^https?$/, error: "an http(s):// URL" });

export const webEnvSchema = z.object({
  WEB_HOST: z.string().min(1).default("127.0.0.1"),
  WEB_PORT: portVar(3000),
  /** The gateway as the browser reaches it (base URL, without /graphql). */
  GATEWAY_URL: httpUrl.transform((url) => url.replace(/\/+$/, "").replace(/\/graphql$/, "")),
  /** The chain's JSON-RPC URL as the browser (and its wallet) reaches it. */
  RPC_URL: httpUrl,
  CHAIN_ID: z.coerce.number().int().positive().default(31_337),
  CHAIN_NAME: z.string().min(1).optional(),
  /** contracts/deployments/<chainId>.json by default. */
  DEPLOYMENT_FILE: z.string().min(1).optional(),
  /** The built page (`npm run build -w @carechain/web`). */
  WEB_DIST_DIR: z
    .string()
    .min(1)
    .default(fileURLToPath(new URL("../../dist", import.meta.url))),
});

export type WebEnv = z.output<typeof webEnvSchema>;

export function parseWebEnv(env: Record<string, string | undefined>): WebEnv {
  return parseConfig(webEnvSchema, env, "web");
}

export function webEnvironment(values: EnvValues<typeof webEnvSchema>): Record<string, string> {
  return buildEnv(webEnvSchema, values, "web");
}
