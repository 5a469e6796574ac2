import { badUserInput } from "../../errors.ts";
import { pageSize } from "../../loaders/cursor.ts";
import { type AlertRow, alertColumns } from "../../loaders/rows.ts";
import { createVitalsLoaders, type VitalsLoaders } from "../../loaders/vitals.ts";
import { scalarResolvers } from "../scalars.ts";
import type { SubgraphContext, SubgraphDefinition } from "../server.ts";
import { type AddressParent, loadTypeDefs } from "../shared.ts";

type Ctx = SubgraphContext<VitalsLoaders>;

type RangeArgs = { from?: Date | null; to?: Date | null; first?: number | null };

function range(args: RangeArgs) {
  if (args.from && args.to && args.from > args.to) throw badUserInput("`from` must not be after `to`.");
  return { from: args.from?.toISOString() ?? null, to: args.to?.toISOString() ?? null };
}

export const vitalsResolvers = {
  ...scalarResolvers,
  Patient: {
    __resolveReference: (reference: AddressParent) => ({ address: reference.address }),
    vitals: async (patient: AddressParent, args: RangeArgs, ctx: Ctx) => {
      const limit = pageSize(args.first, ctx.limits.maxPageSize, 50);
      await ctx.policy.authorize(patient.address, "vitals");
      return ctx.loaders.readings.load({ patient: patient.address, limit, ...range(args) });
    },
    latestVitals: async (patient: AddressParent, _: unknown, ctx: Ctx) => {
      await ctx.policy.authorize(patient.address, "vitals");
      return ctx.loaders.latestReading.load(patient.address);
    },
    vitalsRange: async (patient: AddressParent, _: unknown, ctx: Ctx) => {
      await ctx.policy.authorize(patient.address, "vitals");
      return ctx.loaders.range.load(patient.address);
    },
    alertRecipients: async (patient: AddressParent, _: unknown, ctx: Ctx) => {
      await ctx.policy.authorize(patient.address, "vitals");
      return (await ctx.loaders.recipients.load(patient.address))?.recipients ?? [];
    },
    devices: async (patient: AddressParent, _: unknown, ctx: Ctx) => {
      await ctx.policy.authorize(patient.address, "vitals");
      return ctx.loaders.devices.load(patient.address);
    },
    alerts: async (patient: AddressParent, args: RangeArgs, ctx: Ctx) => {
      const limit = pageSize(args.first, ctx.limits.maxPageSize);
      const decision = await ctx.policy.authorize(patient.address, "alerts");
      const viewer = ctx.policy.viewer;
      return ctx.loaders.alerts.load({
        patient: patient.address,
        limit,
        ...range(args),
        // A recipient-only reader gets the alerts that name it, filtered in the query itself.
        recipient: decision.recipientOnly && viewer.kind === "account" ? viewer.address : null,
      });
    },
  },
  Doctor: {
    __resolveReference: (reference: AddressParent) => ({ address: reference.address }),
    alerts: async (doctor: AddressParent, args: { first?: number | null }, ctx: Ctx) => {
      const limit = pageSize(args.first, ctx.limits.maxPageSize);
      ctx.policy.authorizeOwn(doctor.address, "alerts");
      const rows = await ctx.db.query<AlertRow>(
        `SELECT ${alertColumns("a")} FROM ${ctx.db.projection}.alerts a
          WHERE a.recipients @> ARRAY[$1::text] ORDER BY a.measured_at DESC, a.event_id LIMIT $2`,
        [doctor.address, limit],
      );
      // Each alert is still checked (and audited per patient) by the policy.
      const decisions = await Promise.all(rows.map((row) => ctx.policy.canReadAlert(row)));
      return rows.filter((row, index) => {
        const decision = decisions[index]!;
        if (decision.allowed) ctx.policy.recordRead(row.patient, "alerts", decision);
        return decision.allowed;
      });
    },
  },
  VitalReading: {
    id: (reading: { eventId: string }) => reading.eventId,
  },
  Alert: {
    id: (alert: AlertRow) => alert.eventId,
    patient: (alert: AlertRow) => ({ address: alert.patient }),
    raisedAt: (alert: AlertRow) => alert.blockTime,
  },
};

export const vitalsSubgraph: SubgraphDefinition<VitalsLoaders> = {
  name: "vitals",
  typeDefs: loadTypeDefs(new URL("./schema.graphql", import.meta.url)),
  resolvers: vitalsResolvers,
  createLoaders: createVitalsLoaders,
};
