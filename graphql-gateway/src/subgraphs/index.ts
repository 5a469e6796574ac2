import type { Common } from "@carechain/common";
import type { AuditSink } from "../audit/audit-log.ts";
import type { Database } from "../database/pool.ts";
import type { GatewayOptions, SubgraphName } from "../options.ts";
import { identitySubgraph } from "./identity/resolvers.ts";
import { recordsSubgraph } from "./records/resolvers.ts";
import type { RunningSubgraph, SubgraphDefinition } from "./server.ts";
import { startSubgraphServer } from "./server.ts";
import { vitalsSubgraph } from "./vitals/resolvers.ts";

export {
  formatSubgraphError,
  type RunningSubgraph,
  type SubgraphContext,
  type SubgraphDefinition,
  startSubgraphServer,
} from "./server.ts";

/** Our subgraphs, by name: what the supergraph is composed from. */
export const ourSubgraphs: Record<SubgraphName, SubgraphDefinition> = {
  identity: identitySubgraph as SubgraphDefinition,
  records: recordsSubgraph as SubgraphDefinition,
  vitals: vitalsSubgraph as SubgraphDefinition,
};

/**
 * Starts subgraphs in this process (all of ours by default, plus `extra` ones such as another team's),
 * each on its own port: the configured one, or `ports` (0 = any free port, as tests use).
 */
export async function startSubgraphs(
  common: Common<GatewayOptions>,
  deps: {
    db: Database;
    audit: AuditSink;
    names?: readonly SubgraphName[];
    extra?: readonly SubgraphDefinition[];
    ports?: Partial<Record<string, number>>;
  },
): Promise<{ subgraphs: RunningSubgraph[]; urls: Record<string, string>; close: () => Promise<void> }> {
  const definitions = [
    ...(deps.names ?? (Object.keys(ourSubgraphs) as SubgraphName[])).map((name) => ourSubgraphs[name]),
    ...(deps.extra ?? []),
  ];
  const subgraphs: RunningSubgraph[] = [];
  try {
    for (const definition of definitions) {
      subgraphs.push(
        await startSubgraphServer({
          definition,
          db: deps.db,
          audit: deps.audit,
          secret: common.options.subgraphSecret,
          limits: common.options.limits,
          webhooks: common.options.webhooks,
          logger: common.logger,
          metrics: common.metrics,
          host: common.options.subgraphHost,
          port:
            deps.ports?.[definition.name] ??
            common.options.subgraphPorts[definition.name as SubgraphName] ??
            0,
        }),
      );
    }
  } catch (error) {
    await Promise.all(subgraphs.map((subgraph) => subgraph.close()));
    throw error;
  }
  return {
    subgraphs,
    urls: Object.fromEntries(subgraphs.map((subgraph) => [subgraph.name, subgraph.url])),
    close: async () => {
      await Promise.all(subgraphs.map((subgraph) => subgraph.close()));
    },
  };
}
