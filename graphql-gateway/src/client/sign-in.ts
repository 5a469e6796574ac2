import type { LocalAccount } from "viem";
import { createSiweMessage } from "viem/siwe";
import { SignInFailedError } from "../errors.ts";

export type SignInResult = { token: string; expiresAt: string; address: string };

/**
 * Signs in to the gateway with Sign-In with Ethereum: asks for a nonce, signs the EIP-4361 message with the
 * account and exchanges it for a JWT (`Authorization: Bearer <token>`). The domain, URI and chain id come
 * from the gateway's nonce answer unless given (a browser app would check them against its own origin).
 *
 *   const { token } = await signIn({ url: "http://127.0.0.1:4000", account: privateKeyToAccount(key) });
 */
export async function signIn(options: {
  /** The gateway's base URL (http://host:port), without /graphql. */
  url: string;
  account: Pick<LocalAccount, "address" | "signMessage">;
  domain?: string;
  uri?: string;
  chainId?: number;
  statement?: string;
  /** How long the signed message stays valid (default 5 minutes). */
  validForSeconds?: number;
  fetch?: typeof fetch;
  /** Build the message yourself (tests use this to tamper with it). */
  message?: (fields: Parameters<typeof createSiweMessage>[0]) => string;
}): Promise<SignInResult> {
  const doFetch = options.fetch ?? fetch;
  const base = options.url.replace(/\/+$/, "").replace(/\/graphql$/, "");
  const nonceResponse = await doFetch(`${base}/auth/nonce`, { method: "POST" });
  if (!nonceResponse.ok)
    throw new SignInFailedError(nonceResponse.status, undefined, "Could not get a nonce.");
  const challenge = (await nonceResponse.json()) as {
    nonce: string;
    domain: string;
    uri: string;
    chainId: number;
  };
  const now = new Date();
  const fields = {
    address: options.account.address,
    chainId: options.chainId ?? challenge.chainId,
    domain: options.domain ?? challenge.domain,
    uri: options.uri ?? challenge.uri,
    nonce: challenge.nonce,
    version: "1" as const,
    issuedAt: now,
    expirationTime: new Date(now.getTime() + (options.validForSeconds ?? 300) * 1000),
    statement: options.statement ?? "Sign in to CareChain.",
  };
  const message = (options.message ?? createSiweMessage)(fields);
  const signature = await options.account.signMessage({ message });
  const verifyResponse = await doFetch(`${base}/auth/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message, signature }),
  });
  const body = (await verifyResponse.json()) as SignInResult & {
    error?: { reason?: string; message?: string };
  };
  if (!verifyResponse.ok) {
    throw new SignInFailedError(
      verifyResponse.status,
      body.error?.reason,
      body.error?.message ?? "Sign-in failed.",
    );
  }
  return { token: body.token, expiresAt: body.expiresAt, address: body.address };
}
