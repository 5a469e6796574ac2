// A small JSON-RPC client for the seeder: batches (one HTTP request carries many calls), a bounded number of
// requests in flight, and per-call errors returned rather than thrown (a batch can partly fail).
import { NonRetryableError, RetryableError } from "@carechain/common";

export type RpcCall = { method: string; params: unknown[] };
export type RpcResult = { result: unknown; error?: undefined } | { result?: undefined; error: RpcErrorBody };
export type RpcErrorBody = { code: number; message: string; data?: unknown };

export class JsonRpc {
  private nextId = 1;

  constructor(
    readonly url: string,
    private readonly timeoutMs = 120_000,
  ) {}

  /** One call; throws when the node answers with an error. */
  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const [answer] = await this.batch([{ method, params }]);
    if (!answer || answer.error) {
      throw new NonRetryableError(`${method} failed: ${answer?.error?.message ?? "no answer"}`, {
        details: JSON.stringify(answer?.error?.data ?? null),
      });
    }
    return answer.result as T;
  }

  /** Many calls in one HTTP request; answers in the order of the calls. */
  async batch(calls: RpcCall[]): Promise<RpcResult[]> {
    if (calls.length === 0) return [];
    const first = this.nextId;
    this.nextId += calls.length;
    const body = JSON.stringify(
      calls.map((call, i) => ({ jsonrpc: "2.0", id: first + i, method: call.method, params: call.params })),
    );
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new RetryableError(`${this.url} did not answer: ${String(error)}`, { cause: error });
    }
    if (!response.ok) {
      throw new RetryableError(`${this.url} answered HTTP ${response.status}: ${await response.text()}`);
    }
    const answers = (await response.json()) as
      | { id: number; result?: unknown; error?: RpcErrorBody }[]
      | { error?: RpcErrorBody };
    if (!Array.isArray(answers)) {
      throw new NonRetryableError(
        `${this.url} refused the batch: ${answers.error?.message ?? "not an array"}`,
      );
    }
    const byId = new Map(answers.map((answer) => [answer.id, answer]));
    return calls.map((_, i) => {
      const answer = byId.get(first + i);
      if (!answer) return { error: { code: -1, message: "no answer in the batch" } };
      return answer.error ? { error: answer.error } : { result: answer.result };
    });
  }

  /**
   * Many calls, in batches of at most `batchSize` calls and about 1 MB (anvil refuses bodies over 2 MB), at
   * most `concurrency` HTTP requests in flight.
   */
  async batchAll(calls: RpcCall[], options: { batchSize?: number; concurrency?: number } = {}) {
    const batchSize = options.batchSize ?? 200;
    const maxBytes = 1_000_000;
    const chunks: RpcCall[][] = [];
    let chunk: RpcCall[] = [];
    let bytes = 0;
    for (const call of calls) {
      const size = JSON.stringify(call.params).length + 64;
      if (chunk.length > 0 && (chunk.length >= batchSize || bytes + size > maxBytes)) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(call);
      bytes += size;
    }
    if (chunk.length > 0) chunks.push(chunk);
    const results: RpcResult[][] = new Array(chunks.length);
    await forEachConcurrent(chunks, options.concurrency ?? 4, async (chunk, index) => {
      results[index] = await this.batch(chunk);
    });
    return results.flat();
  }
}

/** Runs `work` over `items` with at most `concurrency` at once; rejects with the first failure. */
export async function forEachConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  });
  await Promise.all(workers);
}
