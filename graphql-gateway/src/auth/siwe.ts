import { type Address, createPublicClient, type Hex, http, verifyMessage } from "viem";
import { parseSiweMessage, verifySiweMessage } from "viem/siwe";
import { SignInError } from "../errors.ts";
import { issueAccessToken } from "./jwt.ts";
import type { NonceStore } from "./nonces.ts";
import { isAddress, normalizeAddress } from "./viewer.ts";

export type SiweSettings = {
  /** The RFC 3986 authority the message must name (`host[:port]`), e.g. `app.carechain.example`. */
  domain: string;
  /** The origin the message's URI must have, e.g. `https://app.carechain.example`. */
  uri: string;
  chainId: number;
  jwtSecret: string;
  jwtTtlSeconds: number;
  /** How long an issued nonce can be used; also the longest a message may have been issued before use. */
  nonceTtlSeconds: number;
  /** Allowed clock difference between the wallet and the gateway. */
  clockSkewSeconds?: number;
};

/** Checks that `signature` over `message` is `address`'s; EOAs offline, contract wallets through a node. */
export type SignatureVerifier = (args: {
  address: Address;
  message: string;
  signature: Hex;
}) => Promise<boolean>;

export function createSignatureVerifier(rpcUrl?: string): SignatureVerifier {
  if (!rpcUrl) return ({ address, message, signature }) => verifyMessage({ address, message, signature });
  const client = createPublicClient({ transport: http(rpcUrl) });
  // verifySiweMessage handles ERC-1271 / ERC-6492 smart-contract accounts as well as EOAs.
  return ({ address, message, signature }) => verifySiweMessage(client, { address, message, signature });
}

/**
 * Sign-In with Ethereum (EIP-4361). `issueNonce` gives a single-use nonce; `verify` checks the signed
 * message (domain, URI, chain id, times, signature, then the nonce, consumed last so that only a fully valid
 * message can use it) and returns a short-lived JWT naming the address.
 */
export class SignInService {
  private readonly verifySignature: SignatureVerifier;

  constructor(
    private readonly settings: SiweSettings,
    private readonly nonces: NonceStore,
    verifier?: SignatureVerifier,
  ) {
    this.verifySignature = verifier ?? createSignatureVerifier();
  }

  /** What a client needs to build the message: the nonce and the values the gateway will check. */
  async issueNonce(): Promise<{
    nonce: string;
    expiresAt: string;
    domain: string;
    uri: string;
    chainId: number;
  }> {
    const { nonce, expiresAt } = await this.nonces.issue();
    return {
      nonce,
      expiresAt: expiresAt.toISOString(),
      domain: this.settings.domain,
      uri: this.settings.uri,
      chainId: this.settings.chainId,
    };
  }

  async verify(input: {
    message: unknown;
    signature: unknown;
    now?: Date;
  }): Promise<{ token: string; expiresAt: string; address: Address }> {
    const now = input.now ?? new Date();
    if (typeof input.message !== "string" || input.message.length > 4096) {
      throw new SignInError(
        "MALFORMED",
        "Body must have `message`: an EIP-4361 message of at most 4096 characters.",
      );
    }
    if (typeof input.signature !== "string" || !/^0x[0-9a-fA-F]+$/.test(input.signature)) {
      throw new SignInError("MALFORMED", "Body must have `signature`: the 0x-hex signature of `message`.");
    }
    const message = input.message;
    const fields = parseSiweMessage(message);
    if (
      !isAddress(fields.address) ||
      !fields.nonce ||
      !fields.uri ||
      fields.version !== "1" ||
      !fields.chainId
    ) {
      throw new SignInError(
        "MALFORMED",
        "Not an EIP-4361 message (address, URI, version 1, chain id and nonce).",
      );
    }
    if (fields.domain !== this.settings.domain) {
      throw new SignInError(
        "WRONG_DOMAIN",
        `Message is for domain ${fields.domain}, not ${this.settings.domain}.`,
      );
    }
    if (!sameOrigin(fields.uri, this.settings.uri)) {
      throw new SignInError("WRONG_URI", `Message URI must be on ${this.settings.uri}.`);
    }
    if (fields.chainId !== this.settings.chainId) {
      throw new SignInError(
        "WRONG_CHAIN",
        `Message is for chain ${fields.chainId}, not ${this.settings.chainId}.`,
      );
    }
    const skewMs = (this.settings.clockSkewSeconds ?? 60) * 1000;
    const { issuedAt, expirationTime, notBefore } = fields;
    if (!issuedAt || Number.isNaN(issuedAt.getTime())) {
      throw new SignInError("MALFORMED", "Message has no valid Issued At time.");
    }
    if (issuedAt.getTime() > now.getTime() + skewMs) {
      throw new SignInError("NOT_YET_VALID", "Message is issued in the future.");
    }
    if (issuedAt.getTime() < now.getTime() - this.settings.nonceTtlSeconds * 1000 - skewMs) {
      throw new SignInError("EXPIRED", "Message was issued too long ago; ask for a new nonce.");
    }
    if (
      expirationTime &&
      (Number.isNaN(expirationTime.getTime()) || expirationTime.getTime() <= now.getTime())
    ) {
      throw new SignInError("EXPIRED", "Message has expired.");
    }
    if (notBefore && (Number.isNaN(notBefore.getTime()) || notBefore.getTime() > now.getTime() + skewMs)) {
      throw new SignInError("NOT_YET_VALID", "Message is not valid yet.");
    }
    let valid = false;
    try {
      valid = await this.verifySignature({
        address: fields.address,
        message,
        signature: input.signature as Hex,
      });
    } catch {
      valid = false;
    }
    if (!valid) throw new SignInError("BAD_SIGNATURE", "Signature does not match the message's address.");
    if (!(await this.nonces.consume(fields.nonce))) {
      throw new SignInError("BAD_NONCE", "Nonce is unknown, already used or expired; ask for a new one.");
    }
    const address = normalizeAddress(fields.address);
    const { token, expiresAt } = await issueAccessToken({
      secret: this.settings.jwtSecret,
      address,
      ttlSeconds: this.settings.jwtTtlSeconds,
      issuer: this.settings.domain,
      now,
    });
    return { token, expiresAt: expiresAt.toISOString(), address };
  }
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
