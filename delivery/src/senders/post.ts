import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import { checkWebhookTarget } from "@carechain/gateway/webhooks";

/** How one attempt ended: what the delivery log and the metrics record. */
export type PostResult = {
  result: "delivered" | "http_error" | "timeout" | "network_error" | "refused";
  statusCode: number | null;
  /** Short, ours: never the receiver's body. */
  error: string | null;
  latencyMs: number;
};

export type Poster = {
  post(url: string, headers: Record<string, string>, body: string): Promise<PostResult>;
  close(): void;
};

/**
 * POSTs webhooks over keep-alive connections. Each attempt ends within `timeoutMs` (connect, headers):
 * a slow receiver holds one sender that long, never more. Unless private URLs are allowed, the target is
 * checked with the gateway's one URL rule just before the attempt, and the connection goes to the
 * addresses that check resolved (not to a second resolution, which DNS could change in between). The
 * answer's body is never read: only the status code matters.
 */
export function createPoster(options: { timeoutMs: number; allowPrivateUrls: boolean }): Poster {
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets: 32 }),
    "https:": new https.Agent({ keepAlive: true, maxSockets: 32 }),
  };
  return {
    async post(target, headers, body) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      let url: URL;
      let lookup: LookupFunction | undefined;
      try {
        const checked = await checkWebhookTarget(target, { allowPrivate: options.allowPrivateUrls });
        url = checked.url;
        const pinned = checked.addresses.filter((address) => isIP(address) !== 0);
        if (pinned.length > 0) lookup = pinnedLookup(pinned);
      } catch (error) {
        return {
          result: "refused",
          statusCode: null,
          error: short((error as Error).message),
          latencyMs: elapsed(),
        };
      }
      return new Promise<PostResult>((resolve) => {
        let settled = false;
        const finish = (result: Omit<PostResult, "latencyMs">) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ ...result, latencyMs: elapsed() });
        };
        const request = (url.protocol === "https:" ? https : http).request(url, {
          method: "POST",
          agent: agents[url.protocol as "http:" | "https:"],
          headers: {
            ...headers,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            "user-agent": "CareChain-Webhooks/1",
          },
          ...(lookup ? { lookup } : {}),
        });
        const timer = setTimeout(() => {
          finish({ result: "timeout", statusCode: null, error: `no answer within ${options.timeoutMs} ms` });
          request.destroy();
        }, options.timeoutMs);
        request.on("response", (response) => {
          const status = response.statusCode ?? 0;
          // Drained, not read: frees the connection for the next send.
          response.resume();
          response.on("error", () => {});
          if (status >= 200 && status < 300) finish({ result: "delivered", statusCode: status, error: null });
          else finish({ result: "http_error", statusCode: status, error: `HTTP ${status}` });
        });
        request.on("error", (error: NodeJS.ErrnoException) =>
          finish({ result: "network_error", statusCode: null, error: short(error.code ?? error.message) }),
        );
        request.end(body);
      });
    },
    close() {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}

const short = (text: string) => (text.length > 200 ? `${text.slice(0, 197)}...` : text);

/** A lookup that answers with the addresses already checked. */
function pinnedLookup(addresses: string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return (_hostname, options, callback) => {
    if (options.all) (callback as (e: null, a: typeof entries) => void)(null, entries);
    else callback(null, entries[0]!.address, entries[0]!.family);
  };
}
