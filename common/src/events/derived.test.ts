import { pad } from "viem";
import { describe, expect, test } from "vitest";
import { DecodeError } from "../errors.ts";
import { deserializeEnvelope, retractionOf, serializeEnvelope } from "./codec.ts";
import { alertFinal, chainClock, endOfBlock, grantExpired, noTransaction } from "./derived.ts";
import { eventId, parseEnvelope } from "./schema.ts";

const patient = "0x70997970c51812dc3a010c7d01b50e678c3dc79c" as const;
const grantee = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc" as const;
const block = { chainId: 31337, number: 42, hash: pad("0xab", { size: 32 }), timestamp: 1_700_000_000 };
const clock = chainClock(block, { partition: 2, partitions: 3 }, 5);

describe("derived envelopes", () => {
  test("default: a chain clock is an envelope of its block, last in it, of no transaction", () => {
    expect(clock).toMatchObject({
      id: `31337:${block.hash}:clock:2`,
      type: "ChainClock",
      blockNumber: 42,
      blockTimestamp: 1_700_000_000,
      txHash: noTransaction,
      logIndex: endOfBlock,
      confirmations: 5,
      payload: { partition: 2, partitions: 3 },
    });
    expect(deserializeEnvelope(serializeEnvelope(clock))).toEqual(clock);
  });

  test("behavior: what a clock derives is of its block and names what it is about; retracted by the same id", () => {
    const expired = grantExpired(clock, { patient, grantee, expiresAt: "1699999999" });
    expect(expired).toMatchObject({
      id: `31337:${block.hash}:expired:${patient}:${grantee}`,
      blockHash: block.hash,
      payload: { patient, grantee },
    });
    const alertHash = pad("0xcd", { size: 32 });
    const final = alertFinal(clock, {
      id: eventId(31337, alertHash, 3),
      blockNumber: 30,
      blockHash: alertHash,
      logIndex: 3,
      payload: {
        patient,
        device: grantee,
        measuredAt: "1699990000",
        systolic: 190,
        diastolic: 100,
        recipients: [],
      },
    });
    expect(final.payload).toMatchObject({ alertId: eventId(31337, alertHash, 3), alertBlockNumber: 30 });
    expect(parseEnvelope(retractionOf(final)).id).toBe(final.id);
  });

  test("error: a derived id that is not of its block", () => {
    expect(() => parseEnvelope({ ...clock, id: `31337:${pad("0xef", { size: 32 })}:clock:2` })).toThrow(
      DecodeError,
    );
  });

  test("error: a payload of the wrong shape", () => {
    expect(() => parseEnvelope({ ...clock, payload: { partition: -1, partitions: 3 } })).toThrowError(
      /Invalid ChainClock payload/,
    );
  });
});
