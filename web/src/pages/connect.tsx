import { useConnect, useConnectors } from "wagmi";
import { Notice } from "../components/notice.tsx";
import { walletMessage } from "../wallet/errors.ts";

/** The wallets the browser announced (EIP-6963), or how to get one. */
export function ConnectPage() {
  const connectors = useConnectors();
  const { connect, error, isPending } = useConnect();
  return (
    <section aria-labelledby="connect-title">
      <h1 id="connect-title">Connect your wallet</h1>
      <p>CareChain uses your Ethereum wallet to sign in and to sign every change to your health record.</p>
      {connectors.length === 0 ? (
        <Notice kind="error">
          No wallet was found in this browser. Install one, such as{" "}
          <a href="https://metamask.io/download/" target="_blank" rel="noreferrer">
            MetaMask
          </a>
          , Rabby or Coinbase Wallet, then reload this page.
        </Notice>
      ) : (
        <ul className="wallets">
          {connectors.map((connector) => (
            <li key={connector.uid}>
              <button type="button" disabled={isPending} onClick={() => connect({ connector })}>
                {connector.icon ? <img src={connector.icon} alt="" width={24} height={24} /> : null}
                {connector.name}
              </button>
            </li>
          ))}
        </ul>
      )}
      {error ? <Notice kind="error">{walletMessage(error)}</Notice> : null}
    </section>
  );
}

export function LockedPage({ onDisconnect }: { onDisconnect: () => void }) {
  return (
    <section aria-labelledby="locked-title">
      <h1 id="locked-title">Your wallet is locked</h1>
      <Notice kind="error">
        The wallet shares no account with CareChain: unlock it (or create an account in it), then connect
        again.
      </Notice>
      <button type="button" onClick={onDisconnect}>
        Connect again
      </button>
    </section>
  );
}
