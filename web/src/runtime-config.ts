// What the web server serves as /config.json and the page reads at start: nothing about a deployment is
// baked into the bundle, so one build runs against any gateway, chain and contracts.
export type RuntimeConfig = {
  /** The gateway's base URL (http://host:port), without /graphql. */
  gatewayUrl: string;
  /** The chain's JSON-RPC URL, as the browser reaches it. */
  rpcUrl: string;
  chainId: number;
  chainName: string;
  contracts: {
    identityRegistry: `0x${string}`;
    consentManager: `0x${string}`;
    recordRegistry: `0x${string}`;
    vitalsMonitor: `0x${string}`;
  };
};

const isAddress = (value: unknown): value is `0x${string}` =>
  typeof value === "string" && /^0x[0-9a-fA-F]{40}$/.test(value);

/** Checks a /config.json answer (the page must not run on half a config). */
export function parseRuntimeConfig(value: unknown): RuntimeConfig {
  const v = value as Partial<RuntimeConfig> | null;
  const contracts = v?.contracts;
  if (
    !v ||
    typeof v.gatewayUrl !== "string" ||
    typeof v.rpcUrl !== "string" ||
    typeof v.chainId !== "number" ||
    typeof v.chainName !== "string" ||
    !contracts ||
    !isAddress(contracts.identityRegistry) ||
    !isAddress(contracts.consentManager) ||
    !isAddress(contracts.recordRegistry) ||
    !isAddress(contracts.vitalsMonitor)
  )
    throw new Error("The web server's /config.json is incomplete.");
  return v as RuntimeConfig;
}
