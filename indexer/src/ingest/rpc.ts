import { type ChainLog, type Logger, withRetry } from "@carechain/common";
import { type Address, createPublicClient, type Hex, http } from "viem";
import { classifyRpcError } from "./classify.ts";

export type BlockHeader = { number: number; hash: Hex; parentHash: Hex; timestamp: number };

export type Rpc = {
  chainId(): Promise<number>;
  blockNumber(): Promise<number>;
  /** One attempt, errors classified: the caller decides between retrying and shrinking the range. */
  getLogs(addresses: readonly Address[], from: number, to: number): Promise<ChainLog[]>;
  /** The logs of one block by hash (also of a block no longer canonical, when the node still has it). */
  getLogsAt(addresses: readonly Address[], blockHash: Hex): Promise<ChainLog[]>;
  /** One block's header by hash (once; null when the node does not know it). */
  headerAt(blockHash: Hex): Promise<BlockHeader | null>;
  /** Headers by number, fetched in JSON-RPC batches; blocks beyond the head are absent from the map. */
  getHeaders(numbers: readonly number[]): Promise<Map<number, BlockHeader>>;
  blockHash(number: number): Promise<Hex | null>;
};

function toHeader(block: { number: bigint; hash: Hex; parentHash: Hex; timestamp: bigint }): BlockHeader {
  return {
    number: Number(block.number),
    hash: block.hash.toLowerCase() as Hex,
    parentHash: block.parentHash.toLowerCase() as Hex,
    timestamp: Number(block.timestamp),
  };
}

export type RpcOptions = {
  url: string;
  timeoutMs: number;
  /** Headers asked in one JSON-RPC batch (one HTTP request). */
  batchSize?: number;
  logger: Logger;
  signal: AbortSignal;
  onError?: (method: string, kind: string) => void;
};

/**
 * The chain as ingest sees it: a viem client without its own retries (ours classify errors first), with
 * JSON-RPC batching so that the headers of a range cost one round trip.
 */
export function createRpc(options: RpcOptions): Rpc {
  const batchSize = options.batchSize ?? 250;
  const client = createPublicClient({
    transport: http(options.url, {
      timeout: options.timeoutMs,
      retryCount: 0,
      batch: { batchSize, wait: 0 },
    }),
  });

  async function once<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const classified = classifyRpcError(error, method);
      options.onError?.(method, classified.name);
      options.logger.debug(
        { method, error: classified.name, details: classified.details },
        "rpc call failed",
      );
      throw classified;
    }
  }

  // Transient failures are retried until shutdown, with backoff; the rest reach the caller.
  function retried<T>(method: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(() => once(method, fn), {
      retries: Number.POSITIVE_INFINITY,
      initialDelayMs: 50,
      maxDelayMs: 5_000,
      signal: options.signal,
      onRetry: ({ attempt, delayMs, error }) => {
        if (attempt % 10 === 0) {
          options.logger.warn(
            { method, attempt, delayMs, error: (error as Error).name },
            "rpc still failing",
          );
        }
      },
    });
  }

  async function headers(numbers: readonly number[]): Promise<Map<number, BlockHeader>> {
    const blocks = await Promise.all(numbers.map((number) => blockOrNull(number)));
    return new Map(
      blocks
        .flatMap((block) => (block === null ? [] : [block]))
        .map((block) => [Number(block.number), toHeader(block)]),
    );
  }

  // A block beyond the head is an answer (the chain is shorter than we thought), not a failure.
  function blockOrNull(number: number) {
    return client
      .getBlock({ blockNumber: BigInt(number), includeTransactions: false })
      .catch((error: unknown) => {
        if ((error as Error).name === "BlockNotFoundError") return null;
        throw error;
      });
  }

  return {
    chainId: () => retried("eth_chainId", () => client.getChainId()),
    blockNumber: () =>
      retried("eth_blockNumber", async () => Number(await client.getBlockNumber({ cacheTime: 0 }))),
    getLogs: (addresses, from, to) =>
      once("eth_getLogs", () =>
        client.getLogs({ address: [...addresses], fromBlock: BigInt(from), toBlock: BigInt(to) }),
      ),
    getLogsAt: (addresses, blockHash) =>
      once("eth_getLogs", () => client.getLogs({ address: [...addresses], blockHash })),
    headerAt: (blockHash) =>
      once("eth_getBlockByHash", async () => {
        const block = await client
          .getBlock({ blockHash, includeTransactions: false })
          .catch((error: unknown) => {
            if ((error as Error).name === "BlockNotFoundError") return null;
            throw error;
          });
        return block ? toHeader(block) : null;
      }),
    getHeaders: async (numbers) => {
      const result = new Map<number, BlockHeader>();
      for (let i = 0; i < numbers.length; i += batchSize) {
        const chunk = numbers.slice(i, i + batchSize);
        for (const [number, header] of await retried("eth_getBlockByNumber", () => headers(chunk))) {
          result.set(number, header);
        }
      }
      return result;
    },
    blockHash: (number) =>
      retried("eth_getBlockByNumber", async () => {
        const block = await blockOrNull(number);
        return block ? (block.hash.toLowerCase() as Hex) : null;
      }),
  };
}
