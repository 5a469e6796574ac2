import type { EventEnvelope, EventName } from "@carechain/common";
import { isDerived, recordLinks } from "@carechain/common";
import { z } from "zod";
import { scopeNames } from "../subgraphs/shared.ts";

/**
 * The public event contract: what the pull API, the cursor subscription and (later) webhooks deliver. Owned
 * here, beside the delivery code, not in common/src/events: the envelope there is the pipeline's internal
 * message (raw ABI arguments: encryption keys, reason hashes, every patient on one topic), while this is a
 * curated, versioned view of it for outside systems, which must be able to change at its own pace (a new
 * EVENT_SCHEMA_VERSION) without touching ingest or the projector. The JSON Schema consumers read is
 * generated from these zod schemas (scripts/event-schema.ts; event-schema.test.ts keeps it current).
 */
export const EVENT_SCHEMA_VERSION = 1;

export const eventTypes = [
  "RECORD_ADDED",
  "RECORD_AMENDED",
  "ALERT_RAISED",
  "READING_REPORTED",
  "GRANT_GIVEN",
  "GRANT_CHANGED",
  "GRANT_REVOKED",
  "EMERGENCY_ACCESS_OPENED",
  "GRANT_EXPIRED",
  "ALERT_FINAL",
] as const;
export type EventType = (typeof eventTypes)[number];

/** The envelope types each public type comes from (a record is ADDED at version 1, AMENDED after). */
export const sourceOf: Record<EventType, EventName> = {
  RECORD_ADDED: "RecordAdded",
  RECORD_AMENDED: "RecordAdded",
  ALERT_RAISED: "VitalsAlert",
  READING_REPORTED: "VitalsReported",
  GRANT_GIVEN: "AccessGranted",
  GRANT_CHANGED: "AccessChanged",
  GRANT_REVOKED: "AccessRevoked",
  EMERGENCY_ACCESS_OPENED: "EmergencyAccessOpened",
  GRANT_EXPIRED: "GrantExpired",
  ALERT_FINAL: "AlertFinal",
};

const address = z
  .string()
  .regex(/^0x[0-9a-f]{40}$/)
  .describe("An Ethereum address, lower case.");
const hash = z
  .string()
  .regex(/^0x[0-9a-f]{64}$/)
  .describe("32 bytes, hex.");
const dateTime = z.iso.datetime().describe("ISO-8601 instant in UTC.");
const scopes = z.array(z.enum(["READ_RECORDS", "WRITE_RECORDS", "READ_VITALS"]));

const recordData = z.strictObject({
  recordId: hash,
  author: address,
  submitter: address,
  recordTypeCode: z.number().int().min(0),
  version: z.number().int().min(1),
  rootRecordId: hash.describe("The first version's id (itself for version 1)."),
  previousRecordId: hash.nullable().describe("The version this one amends (null for version 1)."),
  contentHash: hash,
  storagePointer: z
    .string()
    .describe("Where the encrypted document is (hex); readable through the documents API."),
});
const measurement = {
  device: address,
  measuredAt: dateTime,
  systolic: z.number().int().min(0),
  diastolic: z.number().int().min(0),
};
const grantData = z.strictObject({
  grantee: address,
  scopes,
  expiresAt: dateTime.nullable().describe("null: no expiry."),
});

/** The `data` of each event type. */
export const eventDataSchemas = {
  RECORD_ADDED: recordData,
  RECORD_AMENDED: recordData,
  ALERT_RAISED: z.strictObject({
    ...measurement,
    recipients: z.array(address),
    finality: z
      .enum(["PROVISIONAL", "FINAL"])
      .describe(
        "FINAL: already deep enough in the chain (the operator's finality depth) to be acted on; PROVISIONAL: an ALERT_FINAL with this alert's id as `alertId` follows once it is (or a retraction, if the chain drops it).",
      ),
  }),
  READING_REPORTED: z.strictObject(measurement),
  GRANT_GIVEN: grantData,
  GRANT_CHANGED: grantData,
  GRANT_REVOKED: z.strictObject({ grantee: address }),
  EMERGENCY_ACCESS_OPENED: z.strictObject({ doctor: address, expiresAt: dateTime }),
  GRANT_EXPIRED: z
    .strictObject({ grantee: address, expiresAt: dateTime })
    .describe(
      "The grant to `grantee` ended at `expiresAt`: this event's block is the first whose time reached it.",
    ),
  ALERT_FINAL: z
    .strictObject({
      alertId: z.string().min(1).describe("The `id` of the (PROVISIONAL) ALERT_RAISED that is now final."),
      ...measurement,
      recipients: z.array(address),
    })
    .describe("A provisional alert is now deep enough in the chain to be acted on."),
} satisfies Record<EventType, z.ZodType>;

const common = {
  id: z
    .string()
    .min(1)
    .describe(
      "Stable id, from the chain (chain id, block hash, log index; a retraction adds ':retracted'): drop duplicates by it.",
    ),
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
  patient: address,
  occurredAt: dateTime.describe("The block's time."),
  chainId: z.number().int().positive(),
  blockNumber: z.number().int().min(0),
  blockHash: hash,
  transactionHash: hash
    .nullable()
    .describe("null for what no transaction did but time (GRANT_EXPIRED, ALERT_FINAL: facts of the block)."),
  logIndex: z.number().int().min(0).nullable().describe("null where transactionHash is."),
  retracted: z
    .boolean()
    .describe("True: the chain dropped the block of the event with the same chain position; undo it."),
};

/** One delivered event: the common fields and the `data` of its `type`. */
export const feedEventSchema = z.discriminatedUnion(
  "type",
  eventTypes.map((type) =>
    z
      .strictObject({ ...common, type: z.literal(type), data: eventDataSchemas[type] })
      .meta({ id: type, title: `${type} event` }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

export type FeedEvent = {
  [T in EventType]: {
    id: string;
    schemaVersion: typeof EVENT_SCHEMA_VERSION;
    type: T;
    patient: string;
    occurredAt: string;
    chainId: number;
    blockNumber: number;
    blockHash: string;
    transactionHash: string | null;
    logIndex: number | null;
    retracted: boolean;
    data: z.infer<(typeof eventDataSchemas)[T]>;
  };
}[EventType];

const seconds = (value: string | number) => new Date(Number(value) * 1000).toISOString();

/** The public type of an envelope, or null for the events not delivered (registrations, devices, ...). */
export function eventTypeOf(envelope: EventEnvelope): EventType | null {
  switch (envelope.type) {
    case "RecordAdded":
      return envelope.payload.version > 1 ? "RECORD_AMENDED" : "RECORD_ADDED";
    case "VitalsAlert":
      return "ALERT_RAISED";
    case "VitalsReported":
      return "READING_REPORTED";
    case "AccessGranted":
      return "GRANT_GIVEN";
    case "AccessChanged":
      return "GRANT_CHANGED";
    case "AccessRevoked":
      return "GRANT_REVOKED";
    case "EmergencyAccessOpened":
      return "EMERGENCY_ACCESS_OPENED";
    case "GrantExpired":
      return "GRANT_EXPIRED";
    case "AlertFinal":
      return "ALERT_FINAL";
    default:
      return null;
  }
}

/** The public event of an envelope (null when not delivered); no decision here, see delivery.ts. */
export function toFeedEvent(envelope: EventEnvelope): FeedEvent | null {
  const type = eventTypeOf(envelope);
  if (type === null) return null;
  const base = {
    id: envelope.retracted ? `${envelope.id}:retracted` : envelope.id,
    schemaVersion: EVENT_SCHEMA_VERSION as typeof EVENT_SCHEMA_VERSION,
    patient: (envelope.payload as { patient: string }).patient,
    occurredAt: seconds(envelope.blockTimestamp),
    chainId: envelope.chainId,
    blockNumber: envelope.blockNumber,
    blockHash: envelope.blockHash,
    transactionHash: isDerived(envelope.type) ? null : envelope.txHash,
    logIndex: isDerived(envelope.type) ? null : envelope.logIndex,
    retracted: envelope.retracted,
  };
  switch (envelope.type) {
    case "RecordAdded": {
      const p = envelope.payload;
      return {
        ...base,
        type: type as "RECORD_ADDED" | "RECORD_AMENDED",
        data: {
          recordId: p.recordId,
          author: p.author,
          submitter: p.submitter,
          recordTypeCode: p.recordType,
          version: p.version,
          ...recordLinks(p),
          contentHash: p.contentHash,
          storagePointer: p.storagePointer,
        },
      };
    }
    case "VitalsAlert": {
      const p = envelope.payload;
      const { device, systolic, diastolic, recipients } = p;
      return {
        ...base,
        type: "ALERT_RAISED",
        data: {
          device,
          measuredAt: seconds(p.measuredAt),
          systolic,
          diastolic,
          recipients: [...recipients],
          // The projector says so in the feed (FINALITY_DEPTH); without its word, it is not final.
          finality: envelope.final ? "FINAL" : "PROVISIONAL",
        },
      };
    }
    case "VitalsReported": {
      const p = envelope.payload;
      const { device, systolic, diastolic } = p;
      return {
        ...base,
        type: "READING_REPORTED",
        data: { device, measuredAt: seconds(p.measuredAt), systolic, diastolic },
      };
    }
    case "AccessGranted":
    case "AccessChanged": {
      const p = envelope.payload;
      return {
        ...base,
        type: type as "GRANT_GIVEN" | "GRANT_CHANGED",
        data: {
          grantee: p.grantee,
          scopes: scopeNames(p.scopes) as z.infer<typeof scopes>,
          expiresAt: p.expiresAt === "0" ? null : seconds(p.expiresAt),
        },
      };
    }
    case "AccessRevoked":
      return { ...base, type: "GRANT_REVOKED", data: { grantee: envelope.payload.grantee } };
    case "EmergencyAccessOpened": {
      const p = envelope.payload;
      return {
        ...base,
        type: "EMERGENCY_ACCESS_OPENED",
        data: { doctor: p.doctor, expiresAt: seconds(p.expiresAt) },
      };
    }
    case "GrantExpired": {
      const p = envelope.payload;
      return {
        ...base,
        type: "GRANT_EXPIRED",
        data: { grantee: p.grantee, expiresAt: seconds(p.expiresAt) },
      };
    }
    case "AlertFinal": {
      const p = envelope.payload;
      const { alertId, device, systolic, diastolic, recipients } = p;
      return {
        ...base,
        type: "ALERT_FINAL",
        data: {
          alertId,
          device,
          measuredAt: seconds(p.measuredAt),
          systolic,
          diastolic,
          recipients: [...recipients],
        },
      };
    }
    default:
      return null;
  }
}

/** The JSON Schema of every event type (draft 2020-12), as consumers get it. */
export function eventJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(feedEventSchema, { target: "draft-2020-12" }),
    $id: `https://carechain.dev/schemas/events.v${EVENT_SCHEMA_VERSION}.json`,
    title: `CareChain events, version ${EVENT_SCHEMA_VERSION}`,
    description:
      "One event as the pull API (Query.events), the cursor subscription (Subscription.events) and webhooks deliver it; `type` selects the shape of `data`.",
  };
}

/** Where the JSON Schema is committed, and its text (stable: formatted, newline-terminated). */
export const eventJsonSchemaFile = new URL(
  `../../schemas/events.v${EVENT_SCHEMA_VERSION}.json`,
  import.meta.url,
);
export const eventJsonSchemaText = (): string => `${JSON.stringify(eventJsonSchema(), null, 2)}\n`;
