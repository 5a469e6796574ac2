/**
 * A private anvil for tests that rewrite history (reorgs): the stack's shared anvil serves other tests at
 * the same time, and a revert or anvil_reorg there would rewrite their chain too.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { startAnvil } from "@carechain/stack";
import { createPublicClient, type Hex, http } from "viem";

export type PrivateAnvil = {
  rpcUrl: string;
  port: number;
  /** Writes the chain as it is now to `file`, for a later `startPrivateAnvil({ loadStateFile })`. */
  dumpState(file: string): Promise<void>;
  stop(): Promise<void>;
};

/**
 * `port`: a given one (a restart of the node behind the same URL). `loadStateFile`: start from a state
 * written by dumpState: the blocks after it are unknown to this node (what a node restarted from an older
 * state looks like).
 */
export async function startPrivateAnvil(
  options: { port?: number; loadStateFile?: string } = {},
): Promise<PrivateAnvil> {
  const dataDir = mkdtempSync(join(tmpdir(), "private-anvil-"));
  const { server, rpcUrl, port } = await startAnvil({
    port: options.port,
    dataDir,
    logFile: join(dataDir, "anvil.log"),
    timeoutMs: 20_000,
    register: () => {},
    stateFile: options.loadStateFile,
  });
  const client = createPublicClient({ transport: http(rpcUrl) });
  return {
    rpcUrl,
    port,
    // anvil_dumpState answers gzipped JSON in hex; --state reads the JSON.
    dumpState: async (file) => {
      const state = (await client.request({ method: "anvil_dumpState" } as never)) as Hex;
      writeFileSync(file, gunzipSync(Buffer.from(state.slice(2), "hex")));
    },
    stop: async () => {
      await server.stop(5_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
