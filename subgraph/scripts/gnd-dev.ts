// `npm run gnd:dev -w subgraph -- --rpc <chain URL> --postgres <PostgreSQL URL> [--ipfs <URL>] [-- <gnd dev flags>]`
//
// Runs graph-node in development mode (`gnd dev`) on the built subgraph (`npm run build -w subgraph`, made
// for the chain's deployment file) against a running chain, e.g. the one `npm start` prints. It stores into
// database `carechain_gnd` (or --database) of the given PostgreSQL server, created with the collation and
// extensions graph-node requires. gnd is found as scripts/gnd.ts says (GND_BINARY, ../shared/tools/gnd, the
// cache). graph-node checks an IPFS API or gateway when it starts, though this subgraph reads nothing from
// IPFS: --ipfs (default graph-node's public gateway, which needs the network; or a local `ipfs daemon`).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { runMain } from "@carechain/common";
import { parse } from "yaml";
import { defaultGndCacheDir, ensureGraphNodeDatabase, findGnd } from "./gnd.ts";
import { ManifestError, subgraphDir } from "./manifest.ts";

runMain(
  async (ctx) => {
    const { values, positionals } = parseArgs({
      args: ctx.argv,
      options: {
        rpc: { type: "string" },
        postgres: { type: "string" },
        database: { type: "string", default: "carechain_gnd" },
        ipfs: { type: "string", default: "https://api.thegraph.com/ipfs" },
      },
      allowPositionals: true,
      strict: true,
    });
    if (!values.rpc || !values.postgres) {
      throw new ManifestError(
        "give --rpc <chain URL> and --postgres <PostgreSQL server URL> (npm start prints both)",
      );
    }
    const built = path.join(subgraphDir, "build", "subgraph.yaml");
    if (!existsSync(built))
      throw new ManifestError(`${built} not found: run \`npm run build -w subgraph\` first`);
    const manifest = parse(readFileSync(built, "utf8")) as { dataSources: { network: string }[] };
    const network = manifest.dataSources[0]!.network;

    const gnd = findGnd({
      gndBinary: ctx.env.GND_BINARY,
      cacheDir: defaultGndCacheDir(ctx.env.XDG_CACHE_HOME),
    });
    const postgresUrl = await ensureGraphNodeDatabase(values.postgres, values.database);
    const args = [
      "dev",
      "--manifests",
      path.join(subgraphDir, "subgraph.yaml"),
      "--ethereum-rpc",
      `${network}:${values.rpc}`,
      "--postgres-url",
      postgresUrl,
      "--ipfs",
      values.ipfs,
      ...positionals,
    ];
    console.log(`gnd dev (${gnd.path}): network ${network} at ${values.rpc}, database ${values.database}`);
    const child = spawn(gnd.path, args, { cwd: subgraphDir, stdio: "inherit" });
    ctx.onStop(() => child.kill("SIGINT"));
    return new Promise<number>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code) => resolve(code ?? 1));
    });
  },
  { entry: import.meta.url },
);
