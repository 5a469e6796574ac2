// A test wallet that behaves like an injected browser wallet: announced through EIP-6963, its requests are
// answered in Node with a viem local account against the real chain. It can reject requests (4001), be
// locked (no account) and sit on another chain, as a person's wallet can.
import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { createWalletClient, type Hex, hexToBigInt, http, type PrivateKeyAccount, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { injectedWallet } from "./wallet-script.ts";

export type TestWalletOptions = {
  privateKey: Hex;
  rpcUrl: string;
  /** The chain the node is on; requests that need the chain go there. */
  chainId: number;
  /** The chain the wallet starts on (default: chainId). */
  startChainId?: number;
  /** No account shared: eth_accounts and eth_requestAccounts answer []. */
  locked?: boolean;
  /** Methods the person rejects in the wallet (4001), e.g. ["personal_sign"]. */
  reject?: string[];
};

type RpcError = { code: number; message: string };
class WalletRpcError extends Error {
  constructor(readonly rpc: RpcError) {
    super(rpc.message);
  }
}

const icon =
  "data:image/svg+xml;base64," +
  Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"><circle cx="12" cy="12" r="10" fill="#0b3d5c"/></svg>',
  ).toString("base64");

export type TestWallet = {
  account: PrivateKeyAccount;
  /** Methods the page called, in order (no parameters: they may hold messages). */
  calls: string[];
  /** Chains the wallet knows (wallet_addEthereumChain adds one). */
  knownChains: Set<number>;
  currentChainId: () => number;
};

export async function installTestWallet(page: Page, options: TestWalletOptions): Promise<TestWallet> {
  const account = privateKeyToAccount(options.privateKey);
  const walletClient = createWalletClient({ account, transport: http(options.rpcUrl) });
  const knownChains = new Set([options.startChainId ?? options.chainId]);
  let chainId = options.startChainId ?? options.chainId;
  const calls: string[] = [];
  const binding = `__carechainTestWallet${randomUUID().replaceAll("-", "")}`;

  const emit = (event: string, value: unknown) =>
    page.evaluate(
      ([name, e, v]) =>
        (globalThis as never as Record<string, (e: string, v: unknown) => void>)[`${name}Emit`]?.(e, v),
      [binding, event, value] as const,
    );
  const rejected = (method: string) => options.reject?.includes(method) ?? false;
  // As a real wallet: no account for a site until the person connected it (eth_requestAccounts).
  let permitted = false;
  const accounts = () => (options.locked || !permitted ? [] : [account.address]);

  const forward = async (method: string, params: unknown[]): Promise<unknown> => {
    if (chainId !== options.chainId)
      throw new WalletRpcError({ code: -32603, message: `the test wallet has no node for chain ${chainId}` });
    const response = await fetch(options.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await response.json()) as { result?: unknown; error?: RpcError & { data?: unknown } };
    if (body.error) throw new WalletRpcError(body.error);
    return body.result;
  };

  const handle = async (method: string, params: unknown[]): Promise<unknown> => {
    if (rejected(method)) throw new WalletRpcError({ code: 4001, message: "User rejected the request." });
    switch (method) {
      case "eth_chainId":
        return toHex(chainId);
      case "net_version":
        return String(chainId);
      case "eth_accounts":
        return accounts();
      case "eth_requestAccounts":
        permitted = true;
        return accounts();
      case "wallet_requestPermissions":
        throw new WalletRpcError({ code: -32601, message: "method not supported" });
      case "personal_sign": {
        if (options.locked) throw new WalletRpcError({ code: 4100, message: "The wallet is locked." });
        return account.signMessage({ message: { raw: params[0] as Hex } });
      }
      case "eth_signTypedData_v4": {
        if (options.locked) throw new WalletRpcError({ code: 4100, message: "The wallet is locked." });
        // As MetaMask checks: the signer is this account, and a domain's chain is the one the wallet is on.
        const typedData = JSON.parse(params[1] as string) as Parameters<typeof account.signTypedData>[0];
        if (String(params[0]).toLowerCase() !== account.address.toLowerCase())
          throw new WalletRpcError({ code: 4100, message: "The requested account is not authorized." });
        const domainChain = typedData.domain?.chainId;
        if (domainChain !== undefined && Number(domainChain) !== chainId)
          throw new WalletRpcError({
            code: -32602,
            message: `Provided chainId "${domainChain}" must match the active chainId "${chainId}"`,
          });
        return account.signTypedData(typedData);
      }
      case "eth_sendTransaction": {
        if (options.locked) throw new WalletRpcError({ code: 4100, message: "The wallet is locked." });
        const tx = params[0] as { to: Hex; data?: Hex; value?: Hex; gas?: Hex };
        return walletClient.sendTransaction({
          chain: null,
          to: tx.to,
          data: tx.data,
          value: tx.value ? hexToBigInt(tx.value) : undefined,
          gas: tx.gas ? hexToBigInt(tx.gas) : undefined,
        });
      }
      case "wallet_switchEthereumChain": {
        const wanted = Number((params[0] as { chainId: Hex }).chainId);
        if (!knownChains.has(wanted))
          throw new WalletRpcError({ code: 4902, message: `Unrecognized chain ID ${toHex(wanted)}.` });
        chainId = wanted;
        await emit("chainChanged", toHex(wanted));
        return null;
      }
      case "wallet_addEthereumChain": {
        // As MetaMask does: add the chain, then switch to it.
        const wanted = Number((params[0] as { chainId: Hex }).chainId);
        knownChains.add(wanted);
        chainId = wanted;
        await emit("chainChanged", toHex(wanted));
        return null;
      }
      default:
        return forward(method, params);
    }
  };

  await page.exposeFunction(binding, async (json: string) => {
    const { method, params } = JSON.parse(json) as { method: string; params: unknown[] };
    calls.push(method);
    try {
      return JSON.stringify({ result: await handle(method, params) });
    } catch (error) {
      const rpc =
        error instanceof WalletRpcError
          ? error.rpc
          : { code: -32603, message: error instanceof Error ? error.message : String(error) };
      return JSON.stringify({ error: rpc });
    }
  });
  const info = {
    uuid: randomUUID(),
    name: "CareChain Test Wallet",
    icon,
    rdns: "org.carechain.testwallet",
    binding,
  };
  // As source text: tsx (esbuild) wraps named functions in a `__name` helper the page does not have.
  await page.addInitScript({
    content: `(() => { const __name = (f) => f; (${injectedWallet.toString()})(${JSON.stringify(info)}); })();`,
  });
  return { account, calls, knownChains, currentChainId: () => chainId };
}
