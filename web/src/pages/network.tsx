import { useSwitchChain } from "wagmi";
import { Notice } from "../components/notice.tsx";
import type { RuntimeConfig } from "../runtime-config.ts";
import { walletMessage } from "../wallet/errors.ts";

/** The wallet sits on another chain: offer to switch (the wallet adds the chain if it does not know it). */
export function WrongNetworkPage({
  config,
  current,
}: {
  config: RuntimeConfig;
  current: number | undefined;
}) {
  const { switchChain, error, isPending } = useSwitchChain();
  return (
    <section aria-labelledby="network-title">
      <h1 id="network-title">Wrong network</h1>
      <Notice kind="error">
        Your wallet is on network {current ?? "unknown"}; CareChain runs on {config.chainName} (chain{" "}
        {config.chainId}).
      </Notice>
      <button type="button" disabled={isPending} onClick={() => switchChain({ chainId: config.chainId })}>
        Switch to {config.chainName}
      </button>
      {error ? <Notice kind="error">{walletMessage(error)}</Notice> : null}
    </section>
  );
}
