/**
 * `npm run example:insurer`: an insurer's webhook receiver beside `npm start`. Signs in as the demo insurer
 * (acme-insurance), creates an API key, pulls the events it may see so far, subscribes a webhook to its own
 * HTTP server on 127.0.0.1 from where the pull stopped, and prints every verified event as it arrives.
 * Ctrl-C deletes the subscription and revokes the key.
 *
 *   npm run example:insurer
 *   npm run example:insurer -- --types RECORD_ADDED,RECORD_AMENDED --live
 *
 * --gateway  the gateway's URL (default: the running `npm start`'s, else GATEWAY_URL, else http://127.0.0.1:4000)
 * --as       a demo account's name or anvil index, or a 0x private key (default acme-insurance)
 * --port     where to listen on 127.0.0.1 (default: any free port)
 * --types    event types, comma-separated (default: all)
 * --live     skip the history: only events from now on
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type MainContext, runMain } from "@carechain/common";
import type { EventType } from "@carechain/consumer";
import { eventTypes } from "@carechain/gateway/events";
import { parseConfig as stackConfig } from "@carechain/stack";
import { findDemoAccount, readSystemFile, UsageError } from "@carechain/system";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { startInsurerReceiver } from "./insurer.ts";

const usage = `usage: npm run example:insurer -- [--as acme-insurance] [--gateway URL] [--port n] [--types A,B] [--live]`;

function parse(argv: string[]) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        as: { type: "string", default: "acme-insurance" },
        gateway: { type: "string" },
        port: { type: "string", default: "0" },
        types: { type: "string" },
        live: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, { details: usage });
  }
  const as = values.as as string;
  const key = /^0x[0-9a-fA-F]{64}$/.test(as) ? (as as Hex) : findDemoAccount(as)?.privateKey;
  if (!key) throw new UsageError(`no demo account ${JSON.stringify(as)}`, { details: usage });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError("--port must be a port number (0: any free one)", { details: usage });
  let types: EventType[] | undefined;
  if (typeof values.types === "string") {
    types = values.types.split(",").map((t) => t.trim().toUpperCase()) as EventType[];
    const unknown = types.filter((t) => !eventTypes.includes(t));
    if (unknown.length > 0 || types.length === 0)
      throw new UsageError(`unknown event type ${unknown.join(", ")}: use ${eventTypes.join(", ")}`);
  }
  return { as, key, port, types, live: values.live === true, gateway: values.gateway as string | undefined };
}

async function main(ctx: MainContext): Promise<number | undefined> {
  const args = parse(ctx.argv);
  const gatewayUrl =
    args.gateway ??
    readSystemFile(join(stackConfig(ctx.env).cacheDir, "system"))?.gatewayUrl ??
    ctx.env.GATEWAY_URL ??
    "http://127.0.0.1:4000";
  const account = privateKeyToAccount(args.key);
  const print = (line: string) => process.stdout.write(`${line}\n`);
  print(`insurer receiver: signing in to ${gatewayUrl} as ${args.as} (${account.address})`);
  let receiver: Awaited<ReturnType<typeof startInsurerReceiver>>;
  try {
    receiver = await startInsurerReceiver({
      gatewayUrl,
      account,
      port: args.port,
      history: !args.live,
      print,
      ...(args.types && { types: args.types }),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const down = /fetch failed|ECONNREFUSED/.test(`${reason} ${String((error as Error).cause ?? "")}`);
    process.stderr.write(
      `insurer receiver: ${reason}${down ? " (is CareChain running? npm start; or pass --gateway)" : ""}\n`,
    );
    return 1;
  }
  ctx.onStop(async () => {
    await receiver.stop();
    const { pulled, webhook, duplicate, refused } = receiver.counts;
    print(
      `stopped: ${pulled} pulled, ${webhook} by webhook, ${duplicate} duplicates dropped, ${refused} refused; subscription ${receiver.subscriptionId} deleted, key ${receiver.apiKeyId} revoked`,
    );
  });
  print(
    `receiving webhooks on ${receiver.url} (subscription ${receiver.subscriptionId}, API key ${receiver.apiKeyId}); Ctrl-C to stop`,
  );
  return undefined;
}

runMain(main, { entry: import.meta.url });
