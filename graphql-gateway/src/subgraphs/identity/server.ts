import type { Common } from "@carechain/common";
import type { AuditSink } from "../../audit/audit-log.ts";
import type { Database } from "../../database/pool.ts";
import type { GatewayOptions } from "../../options.ts";
import { type RunningSubgraph, startSubgraphServer } from "../server.ts";
import { identitySubgraph } from "./resolvers.ts";

/** The identity subgraph as its own HTTP server (its own process in production, see main.ts). */
export function startIdentitySubgraph(
  common: Common<GatewayOptions>,
  deps: { db: Database; audit: AuditSink; port?: number },
): Promise<RunningSubgraph> {
  return startSubgraphServer({
    definition: identitySubgraph,
    db: deps.db,
    audit: deps.audit,
    secret: common.options.subgraphSecret,
    limits: common.options.limits,
    logger: common.logger,
    metrics: common.metrics,
    host: common.options.subgraphHost,
    port: deps.port ?? common.options.subgraphPorts.identity,
  });
}
