// Runs inside the page (page.addInitScript): an EIP-1193 provider announced through EIP-6963, whose requests
// go to Node (page.exposeFunction) where test-wallet.ts answers them. Self-contained: it is serialized.
export type WalletInfo = { uuid: string; name: string; icon: string; rdns: string; binding: string };

/** What the page's window offers here (the repo's tsconfig has no DOM types). */
type PageWindow = Record<string, unknown> & {
  addEventListener(type: string, listener: () => void): void;
  dispatchEvent(event: unknown): boolean;
  CustomEvent: new (type: string, init: { detail: unknown }) => unknown;
};

export function injectedWallet(info: WalletInfo): void {
  const page = globalThis as unknown as PageWindow;
  type Listener = (value: unknown) => void;
  const listeners = new Map<string, Set<Listener>>();
  const call = page[info.binding] as (json: string) => Promise<string>;
  const provider = {
    async request({ method, params }: { method: string; params?: unknown }) {
      const answer = JSON.parse(await call(JSON.stringify({ method, params: params ?? [] }))) as {
        result?: unknown;
        error?: { code: number; message: string };
      };
      if (answer.error) {
        const error = new Error(answer.error.message) as Error & { code: number };
        error.code = answer.error.code;
        throw error;
      }
      return answer.result;
    },
    on(event: string, listener: Listener) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(listener);
      return provider;
    },
    removeListener(event: string, listener: Listener) {
      listeners.get(event)?.delete(listener);
      return provider;
    },
  };
  // Node emits wallet events (chainChanged, accountsChanged) through this hook.
  page[`${info.binding}Emit`] = (event: string, value: unknown) => {
    for (const listener of listeners.get(event) ?? []) listener(value);
  };
  const announce = () =>
    page.dispatchEvent(
      new page.CustomEvent("eip6963:announceProvider", {
        detail: Object.freeze({
          info: { uuid: info.uuid, name: info.name, icon: info.icon, rdns: info.rdns },
          provider,
        }),
      }),
    );
  page.addEventListener("eip6963:requestProvider", announce);
  announce();
}
