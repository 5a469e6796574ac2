import { careChainEventsAbi } from "@carechain/contracts/abis";
import { z } from "zod";
import { DecodeError } from "../errors.ts";
import { ENVELOPE_VERSION, type EventEnvelope, type EventName } from "./types.ts";

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

export const eventNames = careChainEventsAbi.map((event) => event.name) as EventName[];

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
  if (base.data.id !== eventId(base.data.chainId, base.data.blockHash as `0x${string}`, base.data.logIndex)) {
    throw new DecodeError("Event id does not match chain id, block hash and log index.", {
      details: `id ${base.data.id}`,
    });
  }
  return { ...base.data, payload: payload.data } as EventEnvelope;
}

/** Stable across re-ingestion of the same canonical log; differs for the same log in an orphaned block. */
export function eventId(chainId: number, blockHash: `0x${string}`, logIndex: number): string {
  return `${chainId}:${blockHash.toLowerCase()}:${logIndex}`;
}
