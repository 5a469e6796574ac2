import { type DecodeError, decodeLog, eventId, RetryableError } from "@carechain/common";
import { careChainEventsAbi } from "@carechain/contracts/abis";
import { getStack } from "@carechain/stack/testing";
import { encodeAbiParameters, encodeEventTopics, type Hex, keccak256, pad, toHex } from "viem";
import { describe, expect, test } from "vitest";
import { deadLetterMessage } from "./dead-letter.ts";
import { decodeRange } from "./decode-range.ts";
import { TestChain } from "./testing/chain.ts";
import {
  committedCount,
  startTestIngest,
  testIngestOptions,
  testKafka,
  waitForBlock,
} from "./testing/ingest.ts";
import { readCommittedRaw } from "./testing/kafka.ts";

const blockHash = `0x${"ab".repeat(32)}` as Hex;
const patient = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const device = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
const base = {
  address: device as Hex,
  blockNumber: 7n,
  blockHash,
  transactionHash: `0x${"cd".repeat(32)}` as Hex,
  transactionIndex: 0,
};
const good = {
  ...base,
  logIndex: 0,
  topics: encodeEventTopics({
    abi: careChainEventsAbi,
    eventName: "VitalsReported",
    args: { patient, device },
  }) as Hex[],
  data: encodeAbiParameters(
    [{ type: "uint64" }, { type: "uint16" }, { type: "uint16" }],
    [1_700_000_000n, 120, 80],
  ),
};
const headers = new Map([
  [7, { number: 7, hash: blockHash, parentHash: blockHash, timestamp: 1_700_000_100 }],
]);

describe("dead letters", () => {
  test("default: a log that decodes becomes an envelope with its block's timestamp", () => {
    const { envelopes, deadLetters } = decodeRange([good], headers, 31337);
    expect(deadLetters).toEqual([]);
    expect(envelopes[0]).toMatchObject({
      type: "VitalsReported",
      blockTimestamp: 1_700_000_100,
      id: eventId(31337, blockHash, 0),
    });
  });

  test("behavior: unknown and malformed logs go to dead letters with the reason, the rest goes on", () => {
    const unknown = { ...good, logIndex: 1, topics: [pad("0x1234")] as [Hex] };
    const truncated = { ...good, logIndex: 2, data: "0x01" as Hex };
    const { envelopes, deadLetters } = decodeRange([unknown, good, truncated], headers, 31337);
    expect(envelopes).toHaveLength(1);
    expect(deadLetters).toHaveLength(2);
    const body = JSON.parse(String(deadLetters[0]!.value));
    expect(body).toMatchObject({ reason: "Log does not match any CareChain event.", chainId: 31337 });
    expect(body.log).toMatchObject({ blockNumber: "7", logIndex: 1, topics: unknown.topics });
    expect(deadLetters[0]!.headers).toMatchObject({ "error-type": "DecodeError" });
    expect(deadLetters[1]!.key).toBe(`31337:${blockHash}:2`);
  });

  test("args: the message keeps the raw log and the error's details", () => {
    let error: DecodeError | undefined;
    try {
      decodeLog({ ...good, topics: [pad("0x99")] as [Hex] }, { chainId: 1, blockTimestamp: 0 });
    } catch (caught) {
      error = caught as DecodeError;
    }
    const message = deadLetterMessage({ ...good, topics: [pad("0x99")] as [Hex] }, error!, 1);
    expect(JSON.parse(String(message.value)).details).toBeTruthy();
  });

  test("error: a log whose block hash differs from the header read after it means the chain changed", () => {
    const moved = new Map([[7, { ...headers.get(7)!, hash: `0x${"ef".repeat(32)}` as Hex }]]);
    for (const changed of [moved, new Map()]) {
      const read = () => decodeRange([good], changed, 31337);
      expect(read).toThrow(RetryableError);
      expect(read).toThrow("block hash differs from its block's header");
    }
  });

  test("behavior: a watched contract's log that does not decode goes to the dead-letter topic, and ingest goes on", async () => {
    const chain = new TestChain(getStack().rpcUrl);
    const deployment = await chain.deploy();
    // ConsentManager's code replaced by: LOG1(topic = keccak("NotACareChainEvent()")) on every call.
    const topic = keccak256(toHex("NotACareChainEvent()"));
    await chain.rpc("anvil_setCode", [
      deployment.contracts.ConsentManager.address,
      `0x7f${topic.slice(2)}60006000a100`,
    ]);
    await chain.sendAll(await chain.fundedAccount(), [
      { to: deployment.contracts.ConsentManager.address, data: "0x" },
    ]);
    await chain.generateReadings(deployment, { patients: 1, batches: 1, perBatch: 5 });

    const { ingest, topics, common } = await startTestIngest(testIngestOptions(deployment));
    try {
      await waitForBlock(ingest, await chain.head());
      const kafka = testKafka();
      const [letter] = await readCommittedRaw(kafka, topics.deadLetter, 1);
      expect(letter!.headers).toMatchObject({
        "dead-letter-reason": "Log does not match any CareChain event.",
        "error-type": "DecodeError",
      });
      const body = JSON.parse(letter!.value);
      expect(body.log).toMatchObject({
        address: deployment.contracts.ConsentManager.address.toLowerCase(),
        topics: [topic],
      });
      const events = await readCommittedRaw(kafka, topics.events, committedCount(ingest));
      expect(events.length).toBe((await chain.logs(deployment)).length - 1);
      expect(await common.metrics.text()).toMatch(/carechain_ingest_dead_letters_total\{[^}]*\} 1/);
    } finally {
      await ingest.stop();
    }
  });
});
