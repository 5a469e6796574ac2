import type { WriteState } from "../wallet/write.ts";
import { Notice } from "./notice.tsx";

const short = (hash: string) => `${hash.slice(0, 10)}…`;

/** The states of a write, in words, so a person knows when others can see it. */
export function WriteStatus({ state }: { state: WriteState }) {
  switch (state.step) {
    case "idle":
      return null;
    case "checking":
      return <Notice kind="info">Checking the transaction and its cost…</Notice>;
    case "wallet":
      return <Notice kind="info">Waiting for your wallet: confirm the transaction there.</Notice>;
    case "sent":
      return <Notice kind="info">Sent ({short(state.hash)}): waiting for it to be mined…</Notice>;
    case "mined":
      return <Notice kind="info">Mined: waiting for CareChain to show it…</Notice>;
    case "indexed":
      return (
        <Notice kind="ok">
          <span data-write-state="indexed" data-indexed-ms={state.indexedMs}>
            Done: visible in CareChain ({(state.indexedMs / 1000).toFixed(1)} s after it was mined).
          </span>
        </Notice>
      );
    case "slow":
      return (
        <Notice kind="info">
          Mined, but CareChain does not show it yet: it will appear when the indexer catches up.
        </Notice>
      );
    case "error":
      return <Notice kind="error">{state.message}</Notice>;
  }
}
