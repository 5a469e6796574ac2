/**
 * `npm run query`: signs in to the gateway as an account (Sign-In with Ethereum, the gateway's client
 * helper) and runs a named operation, printing the JSON answer.
 *
 *   npm run query -- --as dr-house PatientFetch --address 0x…
 *   npm run query -- --as acme-insurance PatientFetch --address 0x… --records 5
 *   npm run query -- --as alice Me
 *   npm run query -- --as 0x<private key> --query '{ me { address role } }'
 *   npm run query -- --as dr-house DocumentFetch --record consultation
 *   npm run query -- --as acme-insurance DocumentFetch --patient 0x… --record 0x<record id> --out note.txt
 *
 * --as        a demo account's name (dr-house, alice, ...), its anvil index (0-9), or a 0x private key
 * --gateway   the gateway's URL (default: the running `npm start`'s, else GATEWAY_URL, else http://127.0.0.1:4000)
 * operations  PatientFetch (--address, --records), DoctorFetch (--address, --patients), Me; or --query '…'
 * --variables a JSON object of variables (merged with --address, --records, --patients)
 * DocumentFetch  reads a record's encrypted document through the gateway, checks it against the record's
 *             hash and decrypts it with the account's key (the demo's key derivation, demoEncryptionKeyPair):
 *             --record a demo record (consultation, consultationAmended, labResult, upload, prescription)
 *             or a record id with --patient; printed, or written to --out
 *
 * Exit codes: 0 when the gateway answered (partial data with FORBIDDEN errors included), 1 when sign-in or
 * the request failed, 2 on bad arguments.
 */
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { type MainContext, runMain } from "@carechain/common";
import { DocumentsClient } from "@carechain/documents";
import { signIn } from "@carechain/gateway/client";
import { DoctorFetch, PatientFetch } from "@carechain/gateway/operations";
import { parseConfig as stackConfig } from "@carechain/stack";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { demoAccountList, demoEncryptionKeyPair, findDemoAccount } from "../demo/accounts.ts";
import { demoRecords } from "../demo/scenario.ts";
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

/** Not GraphQL: a record's document, fetched, verified and decrypted by the client. */
export const documentOperation = "DocumentFetch";

export interface DocumentArgs {
  as: string;
  patient: string;
  recordId: string;
  out: string | undefined;
  gateway: string | undefined;
}

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
       npm run query -- --as <account> DocumentFetch --record <demo record | 0x id> [--patient 0x…] [--out file]
  <demo record> ${Object.keys(demoRecords).join(", ")}
  --gateway    gateway URL (default: the running npm start's, else GATEWAY_URL, else http://127.0.0.1:4000)`;

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: Object.fromEntries(
      [
        "as",
        "query",
        "variables",
        "gateway",
        "address",
        "records",
        "patients",
        "patient",
        "record",
        "out",
      ].map((name) => [name, { type: "string" as const }]),
    ),
  });

/** Parses the command line; throws UsageError (a ConfigError: exit 2) with what is wrong. */
export function parseQueryArgs(argv: string[]): QueryArgs | DocumentArgs {
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
  if (operationName === documentOperation) return parseDocumentArgs(as, flags);
  for (const key of ["patient", "record", "out"])
    if (flags.has(key)) throw new UsageError(`--${key} is for ${documentOperation}`);
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

function parseDocumentArgs(as: string, flags: Map<string, string>): DocumentArgs {
  const record = flags.get("record");
  if (!record) throw new UsageError(`${documentOperation} needs --record (a demo record or a 0x record id)`);
  const demo = demoRecords[record as keyof typeof demoRecords];
  const patient = flags.get("patient") ?? demo?.patient.address;
  const recordId = demo?.id ?? record;
  if (!/^0x[0-9a-fA-F]{64}$/.test(recordId))
    throw new UsageError(
      `--record ${record}: a demo record (${Object.keys(demoRecords).join(", ")}) or a 0x record id`,
    );
  if (!patient || !/^0x[0-9a-fA-F]{40}$/.test(patient))
    throw new UsageError("--patient 0x… (the record's patient) is needed with a record id");
  return { as, patient, recordId, out: flags.get("out"), gateway: flags.get("gateway") };
}

/**
 * Signs in as the account and reads the record's document: looked up through the gateway, refused unless
 * its bytes hash to the record's content hash, decrypted with the account's key. Written to `out`.
 */
export async function fetchDocument(
  args: DocumentArgs & { gateway: string },
  /** Opened only once the document is verified (no empty file is left on a refusal). */
  output: () => NodeJS.WritableStream,
): Promise<{ viewer: string }> {
  const privateKey = keyFor(args.as);
  const account = privateKeyToAccount(privateKey);
  const { token } = await signIn({ url: args.gateway, account });
  const client = new DocumentsClient({
    gatewayUrl: args.gateway,
    token,
    address: account.address,
    secretKey: demoEncryptionKeyPair({ privateKey }).secretKey,
  });
  const plain = await client.download({ patient: args.patient, recordId: args.recordId });
  await pipeline(Readable.from(plain), output());
  return { viewer: account.address };
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
  let args: QueryArgs | DocumentArgs;
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
    if ("recordId" in args) {
      const out = args.out;
      await fetchDocument({ ...args, gateway }, () =>
        out ? createWriteStream(out, { flags: "wx", mode: 0o600 }) : process.stdout,
      );
      if (out) process.stderr.write(`document written to ${out}\n`);
      return 0;
    }
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
