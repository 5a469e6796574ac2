import { careChainEventsAbi } from "@carechain/contracts/abis";
import { z } from "zod";
import { DecodeError } from "../errors.ts";
import {
  type DerivedEventName,
  derivedEventNames,
  ENVELOPE_VERSION,
  type EventEnvelope,
  type EventName,
  isDerived,
} from "./types.ts";

const hex = (bytes?: number) =>
  z.string().regex(bytes === undefined ? /^0x([0-9a-f]{2})*$/ : new RegExp(`^0x[0-9a-f]{${bytes * 2}}$`));
const address = hex(20);

/** The zod schema of one ABI value, as the decoder writes it (see `toJsonValue`). */
function schemaForAbiType(type: string): z.ZodType {
  if (type.endsWith("[]")) return z.array(schemaForAbiType(type.slice(0, -2)));
  if (type === "address") return address;
  if (type === "bool") return z.boolean();
  if (type === "bytes") return hex();
  if (type === "string") return z.string();
  const bytesN = /^bytes(\d+)$/.exec(type);
  if (bytesN) return hex(Number(bytesN[1]));
  const int = /^(u?)int(\d*)$/.exec(type);
  if (int) {
    const bits = Number(int[2] || 256);
    const unsigned = int[1] === "u";
    // viem decodes integers of up to 48 bits as numbers and wider ones as bigint (a string in JSON).
    if (bits <= 48) {
      return unsigned
        ? z
            .number()
            .int()
            .min(0)
            .max(2 ** bits - 1)
        : z.number().int();
    }
    return z.string().regex(unsigned ? /^\d+$/ : /^-?\d+$/);
  }
  throw new Error(`No envelope schema for ABI type ${type}`);
}

const payloadSchemas = new Map<string, z.ZodType>(
  careChainEventsAbi.map((event) => [
    event.name,
    z.strictObject(
      Object.fromEntries(event.inputs.map((input) => [input.name, schemaForAbiType(input.type)])),
    ),
  ]),
);

const uint = z.number().int().nonnegative();
const derivedPayloadSchemas: Record<DerivedEventName, z.ZodType> = {
  ChainClock: z.strictObject({ partition: uint, partitions: z.number().int().positive() }),
  GrantExpired: z.strictObject({ patient: address, grantee: address, expiresAt: z.string().regex(/^\d+$/) }),
  AlertFinal: z.strictObject({
    patient: address,
    alertId: z.string().min(1),
    alertBlockNumber: uint,
    alertLogIndex: uint,
    device: address,
    measuredAt: z.string().regex(/^\d+$/),
    systolic: uint,
    diastolic: uint,
    recipients: z.array(address),
  }),
};
for (const [name, schema] of Object.entries(derivedPayloadSchemas)) payloadSchemas.set(name, schema);

/** The contracts' events (from the ABIs), then the derived ones (derived.ts). */
export const eventNames = [
  ...careChainEventsAbi.map((event) => event.name),
  ...derivedEventNames,
] as EventName[];

const envelopeSchema = z.strictObject({
  version: z.literal(ENVELOPE_VERSION),
  id: z.string().min(1),
  type: z.enum(eventNames as [EventName, ...EventName[]]),
  chainId: z.number().int().positive(),
  contract: address,
  blockNumber: z.number().int().nonnegative(),
  blockHash: hex(32),
  blockTimestamp: z.number().int().nonnegative(),
  txHash: hex(32),
  txIndex: z.number().int().nonnegative(),
  logIndex: z.number().int().nonnegative(),
  retracted: z.boolean(),
  confirmations: z.number().int().nonnegative().optional(),
  final: z.boolean().optional(),
  payload: z.record(z.string(), z.unknown()),
});

/** Validates an envelope: where it is made and where it is read. Throws DecodeError with the reason. */
export function parseEnvelope(value: unknown): EventEnvelope {
  const base = envelopeSchema.safeParse(value);
  if (!base.success) {
    throw new DecodeError("Invalid event envelope.", { details: z.prettifyError(base.error) });
  }
  const payload = payloadSchemas.get(base.data.type)!.safeParse(base.data.payload);
  if (!payload.success) {
    throw new DecodeError(`Invalid ${base.data.type} payload.`, { details: z.prettifyError(payload.error) });
  }
  const { chainId, blockHash, logIndex, id, type } = base.data;
  // A derived fact's id names its block and what it is about (derived.ts); a log's, its block and index.
  const expected = isDerived(type)
    ? `${chainId}:${blockHash}:`
    : eventId(chainId, blockHash as `0x${string}`, logIndex);
  if (isDerived(type) ? !id.startsWith(expected) : id !== expected) {
    throw new DecodeError("Event id does not match chain id, block hash and log index.", {
      details: `id ${id}`,
    });
  }
  return { ...base.data, payload: payload.data } as EventEnvelope;
}

/** Stable across re-ingestion of the same canonical log; differs for the same log in an orphaned block. */
export function eventId(chainId: number, blockHash: `0x${string}`, logIndex: number): string {
  return `${chainId}:${blockHash.toLowerCase()}:${logIndex}`;
}
