import { rmSync } from "node:fs";
import { join } from "node:path";
import type { MainContext } from "@carechain/common";
import { parseConfig, type StackEndpoints, silentLogger, stackStateDir, startStack } from "@carechain/stack";

/**
 * The servers a benchmark runs against: those given by RPC_URL / DATABASE_URL / KAFKA_BROKERS (the stack's
 * configuration), the others started in a fresh folder. They are stopped, and the folder removed, when the
 * benchmark ends, fails or is interrupted.
 */
export async function benchStack(ctx: MainContext, name: string): Promise<StackEndpoints> {
  const config = parseConfig(ctx.env);
  // Under the repo's cache (as the test stack): the servers' users can write there.
  const dataDir = join(stackStateDir(config.cacheDir), `${name}-${process.pid}-${Date.now().toString(36)}`);
  const starting = startStack({ ...config, dataDir, log: silentLogger, signal: ctx.signal });
  ctx.onStop(async () => {
    await (await starting.catch(() => undefined))?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return (await starting).endpoints;
}
