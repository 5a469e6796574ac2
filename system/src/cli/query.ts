/**
 * `npm run query`: signs in to the gateway as an account (Sign-In with Ethereum, the gateway's client
 * helper) and runs a named operation, printing the JSON answer.
 *
 *   npm run query -- --as dr-house PatientFetch --address 0x…
 *   npm run query -- --as acme-insurance PatientFetch --address 0x… --records 5
 *   npm run query -- --as alice Me
 *   npm run query -- --as 0x<private key> --query '{ me { address role } }'
 *
 * --as        a demo account's name (dr-house, alice, ...), its anvil index (0-9), or a 0x private key
 * --gateway   the gateway's URL (default: the running `npm start`'s, else GATEWAY_URL, else http://127.0.0.1:4000)
 * operations  PatientFetch (--address, --records), DoctorFetch (--address, --patients), Me; or --query '…'
 * --variables a JSON object of variables (merged with --address, --records, --patients)
 *
 * Exit codes: 0 when the gateway answered (partial data with FORBIDDEN errors included), 1 when sign-in or
 * the request failed, 2 on bad arguments.
 */
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { signIn } from "@carechain/gateway/client";
import { DoctorFetch, PatientFetch } from "@carechain/gateway/operations";
import { parseConfig as stackConfig } from "@carechain/stack";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { demoAccountList, findDemoAccount } from "../demo/accounts.ts";
import { readSystemFile } from "../system-file.ts";

const Me = `query Me {
  me {
    address
    role
    organizationKind
  }
}
`;

export const namedOperations: Record<string, string> = { PatientFetch, DoctorFetch, Me };

export class UsageError extends Error {}

export interface QueryArgs {
  as: string;
  operationName: string | undefined;
  query: string;
  variables: Record<string, unknown>;
  gateway: string | undefined;
}

const USAGE = `usage: npm run query -- --as <account> <operation> [--address 0x…] [--records n] [--patients n]
       npm run query -- --as <account> --query '<GraphQL>' [--variables '{…}']
  <account>    ${demoAccountList.map((a) => a.name).join(", ")}; an anvil index 0-9; or a 0x private key
  <operation>  ${Object.keys(namedOperations).join(", ")}
  --gateway    gateway URL (default: the running npm start's, else GATEWAY_URL, else http://127.0.0.1:4000)`;

/** Parses the command line; throws UsageError with what is wrong. */
export function parseQueryArgs(argv: string[]): QueryArgs {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith("--")) {
      const [key, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${key} needs a value`);
      flags.set(key, value);
    } else {
      positional.push(arg);
    }
  }
  const known = new Set(["as", "query", "variables", "gateway", "address", "records", "patients"]);
  for (const key of flags.keys()) if (!known.has(key)) throw new UsageError(`unknown option --${key}`);
  const as = flags.get("as");
  if (!as) throw new UsageError("say who signs in: --as <account>");
  const operationName = positional[0];
  if (positional.length > 1) throw new UsageError(`one operation at a time (got ${positional.join(" ")})`);
  let query = flags.get("query");
  if (query === undefined) {
    if (!operationName) throw new UsageError("name an operation or give --query");
    query = namedOperations[operationName];
    if (!query) {
      throw new UsageError(
        `unknown operation ${operationName}: use ${Object.keys(namedOperations).join(", ")}`,
      );
    }
  }
  let variables: Record<string, unknown> = {};
  const json = flags.get("variables");
  if (json !== undefined) {
    try {
      variables = JSON.parse(json) as Record<string, unknown>;
    } catch {
      throw new UsageError("--variables must be a JSON object");
    }
  }
  if (flags.has("address")) variables.address = flags.get("address");
  for (const key of ["records", "patients"]) {
    if (!flags.has(key)) continue;
    const n = Number(flags.get(key));
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${key} must be a whole number`);
    variables[key] = n;
  }
  return { as, operationName, query, variables, gateway: flags.get("gateway") };
}

/** The signing key for --as: a demo account's, or the key itself. */
export function keyFor(as: string): Hex {
  if (/^0x[0-9a-fA-F]{64}$/.test(as)) return as as Hex;
  const account = findDemoAccount(as);
  if (!account) {
    throw new UsageError(
      `no demo account ${JSON.stringify(as)}: use ${demoAccountList.map((a) => a.name).join(", ")}, 0-9, or a 0x private key`,
    );
  }
  return account.privateKey;
}

/** Signs in and runs the query; resolves with the gateway's JSON answer and the HTTP status. */
export async function runQuery(args: QueryArgs & { gateway: string }) {
  const account = privateKeyToAccount(keyFor(args.as));
  const { token } = await signIn({ url: args.gateway, account });
  const response = await fetch(`${args.gateway.replace(/\/+$/, "")}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: args.query, variables: args.variables, operationName: args.operationName }),
  });
  return { status: response.status, body: (await response.json()) as unknown, viewer: account.address };
}

async function main(): Promise<number> {
  let args: QueryArgs;
  try {
    args = parseQueryArgs(process.argv.slice(2));
    keyFor(args.as);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  const gateway =
    args.gateway ??
    readSystemFile(join(stackConfig(process.env).cacheDir, "system"))?.gatewayUrl ??
    process.env.GATEWAY_URL ??
    "http://127.0.0.1:4000";
  try {
    const result = await runQuery({ ...args, gateway });
    process.stdout.write(`${JSON.stringify(result.body, null, 2)}\n`);
    if (result.status !== 200) process.stderr.write(`gateway answered HTTP ${result.status}\n`);
    return result.status === 200 ? 0 : 1;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const hint = /fetch failed|ECONNREFUSED/.test(`${reason} ${String((error as Error).cause ?? "")}`)
      ? ` (is CareChain running? npm start; or pass --gateway)`
      : "";
    process.stderr.write(`query failed at ${gateway}: ${reason}${hint}\n`);
    return 1;
  }
}

// Run only as the entry point (the tests import the parsing).
if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
