import { careChainEventsAbi } from "@carechain/contracts/abis";
import { encodeAbiParameters, encodeEventTopics, type Hex, pad } from "viem";
import { describe, expect, test } from "vitest";
import { DecodeError } from "../errors.ts";
import { deserializeEnvelope, partitionKeyOf, retractionOf, serializeEnvelope } from "./codec.ts";
import { type ChainLog, decodeLog } from "./decode.ts";
import { eventId, parseEnvelope } from "./schema.ts";

const patient = "0x70997970c51812dc3a010c7d01b50e678c3dc79c" as const;
const grantee = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc" as const;
const blockHash = pad("0xab", { size: 32 });
const txHash = pad("0xcd", { size: 32 });

function accessGrantedLog(overrides: Partial<ChainLog> = {}): ChainLog {
  const event = careChainEventsAbi.find((item) => item.name === "AccessGranted")!;
  const topics = encodeEventTopics({ abi: [event], eventName: "AccessGranted", args: { patient, grantee } });
  const data = encodeAbiParameters(
    event.inputs.filter((input) => !input.indexed),
    [3, 1_900_000_000n],
  );
  return {
    address: "0x5FbDB2315678afecb367f032d93F642f64180aa3".toLowerCase() as `0x${string}`,
    topics: topics as Hex[],
    data,
    blockNumber: 42n,
    blockHash,
    transactionHash: txHash,
    transactionIndex: 0,
    logIndex: 7,
    ...overrides,
  };
}

describe("decodeLog", () => {
  test("default", () => {
    const envelope = decodeLog(accessGrantedLog(), { chainId: 31337, blockTimestamp: 1_700_000_000 });
    expect(envelope).toEqual({
      version: 1,
      id: `31337:${blockHash}:7`,
      type: "AccessGranted",
      chainId: 31337,
      contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
      blockNumber: 42,
      blockHash,
      blockTimestamp: 1_700_000_000,
      txHash,
      txIndex: 0,
      logIndex: 7,
      retracted: false,
      payload: {
        patient: patient.toLowerCase(),
        grantee: grantee.toLowerCase(),
        scopes: 3,
        expiresAt: "1900000000",
      },
    });
  });

  test("behavior: the id is stable for the same log and differs in another block", () => {
    const a = decodeLog(accessGrantedLog(), { chainId: 31337, blockTimestamp: 1 });
    const b = decodeLog(accessGrantedLog(), { chainId: 31337, blockTimestamp: 1 });
    const c = decodeLog(accessGrantedLog({ blockHash: pad("0xef", { size: 32 }) }), {
      chainId: 31337,
      blockTimestamp: 1,
    });
    expect(a.id).toBe(b.id);
    expect(c.id).not.toBe(a.id);
  });

  test("error: pending log", () => {
    expect(() => decodeLog(accessGrantedLog({ blockHash: null }), { chainId: 1, blockTimestamp: 1 })).toThrow(
      DecodeError,
    );
  });

  test("error: unknown event signature", () => {
    const log = accessGrantedLog({ topics: [pad("0x1234", { size: 32 })] });
    expect(() => decodeLog(log, { chainId: 1, blockTimestamp: 1 })).toThrowError(
      /does not match any CareChain event/,
    );
  });

  test("error: truncated data", () => {
    const log = accessGrantedLog({ data: "0x01" });
    expect(() => decodeLog(log, { chainId: 1, blockTimestamp: 1 })).toThrow(DecodeError);
  });
});

describe("envelope codec", () => {
  const envelope = decodeLog(accessGrantedLog(), { chainId: 31337, blockTimestamp: 1_700_000_000 });

  test("default: round trip through bytes", () => {
    expect(deserializeEnvelope(serializeEnvelope(envelope))).toEqual(envelope);
  });

  test("behavior: retraction keeps id and payload", () => {
    const retraction = retractionOf(envelope);
    expect(retraction).toEqual({ ...envelope, retracted: true });
    expect(parseEnvelope(retraction).id).toBe(envelope.id);
  });

  test("behavior: keyed by patient", () => {
    expect(partitionKeyOf(envelope)).toBe(patient.toLowerCase());
  });

  test("error: not JSON", () => {
    expect(() => deserializeEnvelope(Buffer.from("{oops"))).toThrowError(/not JSON/);
  });

  test("error: empty message", () => {
    expect(() => deserializeEnvelope(null)).toThrow(DecodeError);
  });

  test("error: payload of the wrong shape", () => {
    const bad = { ...envelope, payload: { ...envelope.payload, scopes: "three" } };
    expect(() => parseEnvelope(bad)).toThrowError(/Invalid AccessGranted payload/);
  });

  test("error: unknown field in the payload", () => {
    const bad = { ...envelope, payload: { ...envelope.payload, name: "Alice" } };
    expect(() => parseEnvelope(bad)).toThrow(DecodeError);
  });

  test("error: id that does not match its coordinates", () => {
    const bad = { ...envelope, id: eventId(31337, blockHash, 8) };
    expect(() => parseEnvelope(bad)).toThrowError(/does not match/);
  });

  test("error: upper-case address", () => {
    const bad = { ...envelope, contract: envelope.contract.toUpperCase().replace("0X", "0x") };
    expect(() => parseEnvelope(bad)).toThrow(DecodeError);
  });
});
