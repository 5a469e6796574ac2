import { defineChain } from "viem";
import { createConfig, http } from "wagmi";
import type { RuntimeConfig } from "../runtime-config.ts";

/** The chain CareChain runs on, as the wallet needs it to switch or add it. */
export function careChain(config: RuntimeConfig) {
  return defineChain({
    id: config.chainId,
    name: config.chainName,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
}

/**
 * Wallets are found through EIP-6963 only (each injected wallet announces itself: MetaMask, Rabby, Coinbase
 * Wallet…), so several wallets side by side each keep their own entry.
 */
export function createWagmiConfig(config: RuntimeConfig) {
  const chain = careChain(config);
  return createConfig({
    chains: [chain],
    connectors: [],
    multiInjectedProviderDiscovery: true,
    transports: { [chain.id]: http(config.rpcUrl) },
  });
}
