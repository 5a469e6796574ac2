import { useState } from "react";
import { Notice } from "../components/notice.tsx";
import { useSession } from "../session.tsx";
import { walletMessage } from "../wallet/errors.ts";

export function SignInPage() {
  const { signIn } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const onClick = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await signIn();
    } catch (e) {
      setError(walletMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      <p>Sign a message with your wallet to prove this account is yours. It sends no transaction.</p>
      <button type="button" disabled={busy} onClick={onClick}>
        {busy ? "Waiting for your wallet…" : "Sign in with Ethereum"}
      </button>
      {error ? <Notice kind="error">{error}</Notice> : null}
    </section>
  );
}
