import { badUserInput } from "../../errors.ts";
import { connection, decodeCursor, encodeCursor, pageSize } from "../../loaders/cursor.ts";
import { createRecordsLoaders, type RecordsLoaders } from "../../loaders/records.ts";
import type { RecordRow } from "../../loaders/rows.ts";
import { scalarResolvers } from "../scalars.ts";
import type { SubgraphContext, SubgraphDefinition } from "../server.ts";
import { type AddressParent, loadTypeDefs } from "../shared.ts";

type Ctx = SubgraphContext<RecordsLoaders>;

/** Record type codes (CareChainTypes.RECORD_*). */
export const recordTypes = [
  "CONSULTATION_NOTE",
  "LAB_RESULT",
  "IMAGING",
  "PRESCRIPTION",
  "DISCHARGE_SUMMARY",
  "IMMUNIZATION",
  "ALLERGY",
  "PATIENT_UPLOAD",
] as const;

export function recordTypeName(code: number): string {
  return recordTypes[code - 1] ?? "PATIENT_UPLOAD";
}

export function recordTypeCode(name: string): number {
  return recordTypes.indexOf(name as (typeof recordTypes)[number]) + 1;
}

type RecordsArgs = {
  first?: number | null;
  after?: string | null;
  type?: string | null;
  from?: Date | null;
  to?: Date | null;
  includeSuperseded?: boolean | null;
};

export const recordsResolvers = {
  ...scalarResolvers,
  Patient: {
    __resolveReference: (reference: AddressParent) => ({ address: reference.address }),
    records: async (patient: AddressParent, args: RecordsArgs, ctx: Ctx) => {
      const first = pageSize(args.first, ctx.limits.maxPageSize);
      await ctx.policy.authorize(patient.address, "records");
      // A cursor from another patient's list (or any other list) is refused.
      const after = args.after ? decodeCursor(args.after, patient.address, 2) : null;
      if (args.from && args.to && args.from > args.to) throw badUserInput("`from` must not be after `to`.");
      const rows = await ctx.loaders.recordsPage.load({
        patient: patient.address,
        limit: first + 1,
        after: after ? [Number(after[0]), Number(after[1])] : null,
        type: args.type ? recordTypeCode(args.type) : null,
        from: args.from?.toISOString() ?? null,
        to: args.to?.toISOString() ?? null,
        includeSuperseded: args.includeSuperseded ?? false,
      });
      return connection(
        rows,
        first,
        (row) => encodeCursor(patient.address, [row.blockNumber, row.logIndex]),
        !!after,
      );
    },
  },
  Doctor: {
    __resolveReference: (reference: AddressParent) => ({ address: reference.address }),
    authoredRecordCount: async (doctor: AddressParent, _: unknown, ctx: Ctx) => {
      ctx.policy.authorizeOwn(doctor.address, "authored record count");
      return (await ctx.loaders.authoredCount.load(doctor.address))?.count ?? 0;
    },
  },
  Record: {
    id: (record: RecordRow) => record.recordId,
    type: (record: RecordRow) => recordTypeName(record.recordType),
    typeCode: (record: RecordRow) => record.recordType,
    latest: (record: RecordRow) => record.supersededBy === null,
    addedAt: (record: RecordRow) => record.blockTime,
    // Versions belong to the same patient as the record, whose READ_RECORDS was checked to reach it.
    versions: (record: RecordRow, _: unknown, ctx: Ctx) => ctx.loaders.versions.load(record.rootRecordId),
    // Same access as the record; a document of another patient with the same hash is not shown.
    document: async (record: RecordRow, _: unknown, ctx: Ctx) => {
      const document = await ctx.loaders.documents.load(record.contentHash);
      return document && document.patient === record.patient.toLowerCase() ? document : null;
    },
  },
};

export const recordsSubgraph: SubgraphDefinition<RecordsLoaders> = {
  name: "records",
  typeDefs: loadTypeDefs(new URL("./schema.graphql", import.meta.url)),
  resolvers: recordsResolvers,
  createLoaders: createRecordsLoaders,
};
