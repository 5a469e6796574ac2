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
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type MainContext, runMain } from "@carechain/common";
import { signIn } from "@carechain/gateway/client";
import { DoctorFetch, PatientFetch } from "@carechain/gateway/operations";
import { parseConfig as stackConfig } from "@carechain/stack";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { demoAccountList, findDemoAccount } from "../demo/accounts.ts";
import { UsageError } from "../errors.ts";
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

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: Object.fromEntries(
      ["as", "query", "variables", "gateway", "address", "records", "patients"].map((name) => [
        name,
        { type: "string" as const },
      ]),
    ),
  });

/** Parses the command line; throws UsageError (a ConfigError: exit 2) with what is wrong. */
export function parseQueryArgs(argv: string[]): QueryArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    const option = (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION";
    const name = /'(-[^']+)'/.exec((error as Error).message)?.[1];
    throw new UsageError(option && name ? `unknown option ${name}` : (error as Error).message);
  }
  const flags = new Map(Object.entries(parsed.values) as [string, string][]);
  const positional = parsed.positionals;
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

async function main(ctx: MainContext): Promise<number> {
  let args: QueryArgs;
  try {
    args = parseQueryArgs(ctx.argv);
    keyFor(args.as);
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(error.message, { details: USAGE });
    throw error;
  }
  const gateway =
    args.gateway ??
    readSystemFile(join(stackConfig(ctx.env).cacheDir, "system"))?.gatewayUrl ??
    ctx.env.GATEWAY_URL ??
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
runMain(main, { entry: import.meta.url });
