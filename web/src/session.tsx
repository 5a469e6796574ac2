// Sign-in with Ethereum against the gateway (EIP-4361): the wallet signs the gateway's challenge, the
// gateway answers a short-lived token kept in this tab only (sessionStorage).
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";
import type { Address } from "viem";
import { createSiweMessage } from "viem/siwe";
import { useAccount, useSignMessage } from "wagmi";
import { GatewayUnreachableError } from "./graphql/client.ts";
import type { RuntimeConfig } from "./runtime-config.ts";

type Stored = { token: string; expiresAt: string };
type Session = {
  config: RuntimeConfig;
  token: string | undefined;
  signIn: () => Promise<void>;
  signOut: () => void;
};

const SessionContext = createContext<Session | undefined>(undefined);
const keyOf = (address: Address) => `carechain.session.${address.toLowerCase()}`;

function readStored(address: Address | undefined): string | undefined {
  if (!address) return undefined;
  const raw = sessionStorage.getItem(keyOf(address));
  if (!raw) return undefined;
  const stored = JSON.parse(raw) as Stored;
  return Date.parse(stored.expiresAt) > Date.now() + 10_000 ? stored.token : undefined;
}

export function SessionProvider({ config, children }: { config: RuntimeConfig; children: ReactNode }) {
  const { address } = useAccount();
  const { signMessageAsync } = useSignMessage();
  const [version, setVersion] = useState(0);
  // `version` changes after sign-in and sign-out: read the stored token again.
  const token = useMemo(() => (version >= 0 ? readStored(address) : undefined), [address, version]);

  const signIn = useCallback(async () => {
    if (!address) throw new Error("Connect your wallet first.");
    const post = async (path: string, body?: unknown) => {
      try {
        return await fetch(`${config.gatewayUrl}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch {
        throw new GatewayUnreachableError(config.gatewayUrl);
      }
    };
    const nonceAnswer = await post("/auth/nonce");
    if (!nonceAnswer.ok) throw new Error("The gateway refused to start a sign-in: try again in a moment.");
    const challenge = (await nonceAnswer.json()) as {
      nonce: string;
      domain: string;
      uri: string;
      chainId: number;
    };
    const now = new Date();
    const message = createSiweMessage({
      address,
      chainId: challenge.chainId,
      domain: challenge.domain,
      uri: challenge.uri,
      nonce: challenge.nonce,
      version: "1",
      issuedAt: now,
      expirationTime: new Date(now.getTime() + 5 * 60_000),
      statement: "Sign in to CareChain.",
    });
    const signature = await signMessageAsync({ message });
    const verified = await post("/auth/verify", { message, signature });
    const body = (await verified.json()) as Stored & { error?: { reason?: string } };
    if (!verified.ok)
      throw new Error(`The gateway refused the sign-in (${body.error?.reason ?? verified.status}).`);
    sessionStorage.setItem(keyOf(address), JSON.stringify({ token: body.token, expiresAt: body.expiresAt }));
    setVersion((v) => v + 1);
  }, [address, config.gatewayUrl, signMessageAsync]);

  const signOut = useCallback(() => {
    if (address) sessionStorage.removeItem(keyOf(address));
    setVersion((v) => v + 1);
  }, [address]);

  const value = useMemo(() => ({ config, token, signIn, signOut }), [config, token, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
