import type { Address } from "viem";
import { readAccessLog } from "../../audit/access-log.ts";
import type { Viewer } from "../../auth/viewer.ts";
import { forbidden } from "../../errors.ts";
import { type EventsArgs, eventsPage } from "../../events/api.ts";
import { connection, decodeCursor, encodeCursor, pageSize } from "../../loaders/cursor.ts";
import { createIdentityLoaders, type IdentityLoaders } from "../../loaders/identity.ts";
import { type DoctorRow, doctorColumns, type OrganizationRow, type PatientRow } from "../../loaders/rows.ts";
import { denialMessage } from "../../policy/index.ts";
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from "../../webhooks/api-keys.ts";
import { isDeliveryScoped, outsideScopeMessage } from "../../webhooks/scope.ts";
import {
  type CreateSubscriptionInput,
  createSubscription,
  deleteSubscription,
  deliveryLog,
  getSubscription,
  listSubscriptions,
  pauseSubscription,
  redeliverFrom,
  resumeSubscription,
  type WebhookDelivery,
  type WebhookSubscription,
} from "../../webhooks/subscriptions.ts";
import { scalarResolvers } from "../scalars.ts";
import type { SubgraphContext, SubgraphDefinition } from "../server.ts";
import { type AddressParent, loadTypeDefs, organizationKindName, roleName, scopeNames } from "../shared.ts";

type Ctx = SubgraphContext<IdentityLoaders>;

/** Profile fields: allowed to whoever may see the patient at all (audited as a PROFILE read). */
async function profileOf(parent: AddressParent, ctx: Ctx): Promise<PatientRow> {
  await ctx.policy.authorize(parent.address, "profile");
  const row = await ctx.loaders.patient.load(parent.address);
  if (!row) throw forbidden(denialMessage("profile"));
  return row;
}

/**
 * The organization a webhook or API key operation acts for: the viewer, if it is one (a wallet session or
 * its API key), else FORBIDDEN. Those tables are the gateway's, outside the projections' read version:
 * nothing read here may be kept by the answer cache.
 */
function organizationOf(ctx: Ctx): Address {
  ctx.outcome.unversioned = true;
  const viewer = ctx.viewer;
  if (viewer.kind !== "account" || viewer.role !== "organization")
    throw forbidden(
      "Webhook subscriptions and API keys are for organization accounts: sign in with the organization's wallet.",
    );
  return viewer.address;
}

/** As organizationOf, and a wallet session: an API key cannot manage keys (nor mint itself new ones). */
function sessionOrganizationOf(ctx: Ctx): Address {
  const owner = organizationOf(ctx);
  if (isDeliveryScoped(ctx.viewer)) throw forbidden(outsideScopeMessage("managing API keys"));
  return owner;
}

const grantActions: Record<string, string> = {
  granted: "GRANTED",
  changed: "CHANGED",
  revoked: "REVOKED",
  emergency_opened: "EMERGENCY_OPENED",
  emergency_closed: "EMERGENCY_CLOSED",
};

const accessKinds: Record<string, string> = {
  profile: "PROFILE",
  records: "RECORDS",
  vitals: "VITALS",
  alerts: "ALERTS",
};

const accessRules: Record<string, string> = {
  grant: "GRANT",
  emergency: "EMERGENCY",
  "alert-recipient": "ALERT_RECIPIENT",
  party: "PARTY",
};

export const identityResolvers = {
  ...scalarResolvers,
  Query: {
    me: (_: unknown, __: unknown, ctx: Ctx) => ctx.viewer,
    // The pull API over the committed event feed (events/api.ts), with the subscriptions' decision.
    events: (_: unknown, args: EventsArgs & { first?: number | null }, ctx: Ctx) =>
      eventsPage({ db: ctx.db, policy: ctx.policy, maxPageSize: ctx.limits.maxPageSize }, args),
    patient: async (_: unknown, args: { address: string }, ctx: Ctx) => {
      await ctx.policy.authorize(args.address, "profile");
      return ctx.loaders.patient.load(args.address);
    },
    doctor: (_: unknown, args: { address: string }, ctx: Ctx) => ctx.loaders.doctor.load(args.address),
    organization: (_: unknown, args: { address: string }, ctx: Ctx) =>
      ctx.loaders.organization.load(args.address),
    webhookSubscriptions: (_: unknown, __: unknown, ctx: Ctx) =>
      listSubscriptions(ctx.db, organizationOf(ctx)),
    webhookSubscription: (_: unknown, args: { id: string }, ctx: Ctx) =>
      getSubscription(ctx.db, organizationOf(ctx), args.id),
    apiKeys: (_: unknown, __: unknown, ctx: Ctx) => listApiKeys(ctx.db, sessionOrganizationOf(ctx)),
    doctors: async (
      _: unknown,
      args: { first?: number | null; after?: string | null; verified?: boolean | null },
      ctx: Ctx,
    ) => {
      const first = pageSize(args.first, ctx.limits.maxPageSize);
      const after = args.after ? decodeCursor(args.after, "doctors", 2) : null;
      const p = ctx.db.projection;
      const rows = await ctx.db.query<DoctorRow>(
        `SELECT ${doctorColumns("t")} FROM ${p}.doctors t
          WHERE ($1::boolean IS NULL OR t.verified = $1)
            AND ($2::bigint IS NULL OR (t.registered_block, t.address) > ($2::bigint, $3::text))
          ORDER BY t.registered_block, t.address LIMIT $4`,
        [args.verified ?? null, after?.[0] ?? null, after?.[1] ?? null, first + 1],
      );
      return connection(
        rows,
        first,
        (row) => encodeCursor("doctors", [row.registeredBlock, row.address]),
        !!after,
      );
    },
  },

  Mutation: {
    createWebhookSubscription: (_: unknown, args: { input: CreateSubscriptionInput }, ctx: Ctx) =>
      createSubscription(ctx.db, organizationOf(ctx), args.input, ctx.webhooks),
    pauseWebhookSubscription: (_: unknown, args: { id: string }, ctx: Ctx) =>
      pauseSubscription(ctx.db, organizationOf(ctx), args.id),
    resumeWebhookSubscription: (_: unknown, args: { id: string }, ctx: Ctx) =>
      resumeSubscription(ctx.db, organizationOf(ctx), args.id),
    deleteWebhookSubscription: (_: unknown, args: { id: string }, ctx: Ctx) =>
      deleteSubscription(ctx.db, organizationOf(ctx), args.id),
    redeliverWebhookEvents: (_: unknown, args: { id: string; fromEventId: string }, ctx: Ctx) =>
      redeliverFrom(ctx.db, organizationOf(ctx), args.id, args.fromEventId),
    createApiKey: (_: unknown, args: { name: string; expiresInDays?: number | null }, ctx: Ctx) =>
      createApiKey(ctx.db, sessionOrganizationOf(ctx), args),
    revokeApiKey: (_: unknown, args: { id: string }, ctx: Ctx) =>
      revokeApiKey(ctx.db, sessionOrganizationOf(ctx), args.id),
    rotateApiKey: (_: unknown, args: { id: string; overlapHours?: number | null }, ctx: Ctx) =>
      rotateApiKey(ctx.db, sessionOrganizationOf(ctx), args.id, args.overlapHours ?? 24),
  },

  // Reached only through the owner's lookups above.
  WebhookSubscription: {
    status: (subscription: WebhookSubscription) => subscription.status.toUpperCase(),
    pending: (subscription: WebhookSubscription, _: unknown, ctx: Ctx) =>
      ctx.loaders.webhookPending.load(subscription.id),
    deliveries: (
      subscription: WebhookSubscription,
      args: { first?: number | null; after?: string | null },
      ctx: Ctx,
    ) => deliveryLog(ctx.db, subscription.id, args, ctx.limits.maxPageSize),
  },

  WebhookDelivery: {
    status: (delivery: WebhookDelivery) => delivery.status.toUpperCase(),
  },

  Viewer: {
    address: (viewer: Viewer) => (viewer.kind === "account" ? viewer.address : null),
    role: (viewer: Viewer) => roleName(viewer),
    organizationKind: (viewer: Viewer) =>
      viewer.kind === "account" ? organizationKindName(viewer.organizationKind) : null,
    patient: (viewer: Viewer, _: unknown, ctx: Ctx) =>
      viewer.kind === "account" && viewer.role === "patient"
        ? ctx.loaders.patient.load(viewer.address)
        : null,
    doctor: (viewer: Viewer, _: unknown, ctx: Ctx) =>
      viewer.kind === "account" && viewer.role === "doctor" ? ctx.loaders.doctor.load(viewer.address) : null,
    organization: (viewer: Viewer, _: unknown, ctx: Ctx) =>
      viewer.kind === "account" && viewer.role === "organization"
        ? ctx.loaders.organization.load(viewer.address)
        : null,
  },

  Patient: {
    __resolveReference: (reference: AddressParent) => ({ address: reference.address }),
    address: (parent: AddressParent) => parent.address,
    profileHash: async (parent: AddressParent, _: unknown, ctx: Ctx) =>
      (await profileOf(parent, ctx)).profileHash,
    encryptionKey: async (parent: AddressParent, _: unknown, ctx: Ctx) =>
      (await profileOf(parent, ctx)).encryptionKey,
    registeredAt: async (parent: AddressParent, _: unknown, ctx: Ctx) =>
      (await profileOf(parent, ctx)).registeredAt,
    updatedAt: async (parent: AddressParent, _: unknown, ctx: Ctx) =>
      (await profileOf(parent, ctx)).updatedAt,
    grants: async (parent: AddressParent, _: unknown, ctx: Ctx) => {
      await ctx.policy.authorize(parent.address, "grants");
      return ctx.loaders.activeGrants.load(parent.address);
    },
    emergencyAccesses: async (parent: AddressParent, _: unknown, ctx: Ctx) => {
      await ctx.policy.authorize(parent.address, "grants");
      return ctx.loaders.openEmergencies.load(parent.address);
    },
    grantHistory: async (
      parent: AddressParent,
      args: { first?: number | null; after?: string | null },
      ctx: Ctx,
    ) => {
      await ctx.policy.authorize(parent.address, "grants");
      const first = pageSize(args.first, ctx.limits.maxPageSize);
      const after = args.after ? decodeCursor(args.after, parent.address, 2) : null;
      const rows = await ctx.db.query<{
        id: string;
        action: string;
        grantee: string;
        scopes: number | null;
        expiresAt: Date | null;
        reasonHash: string | null;
        blockNumber: number;
        logIndex: number;
        at: Date;
      }>(
        `SELECT event_id AS id, action, grantee, scopes, expires_at AS "expiresAt", reason_hash AS "reasonHash",
                block_number::float8 AS "blockNumber", log_index::float8 AS "logIndex", block_time AS at
           FROM ${ctx.db.projection}.grant_history
          WHERE patient = $1 AND ($2::bigint IS NULL OR (block_number, log_index) < ($2::bigint, $3::bigint))
          ORDER BY block_number DESC, log_index DESC LIMIT $4`,
        [parent.address, after?.[0] ?? null, after?.[1] ?? null, first + 1],
      );
      return connection(
        rows.map((row) => ({
          ...row,
          action: grantActions[row.action] ?? row.action.toUpperCase(),
          scopeMask: row.scopes,
          scopes: row.scopes === null ? null : scopeNames(row.scopes),
        })),
        first,
        (row) => encodeCursor(parent.address, [row.blockNumber, row.logIndex]),
        !!after,
      );
    },
    accessLog: async (
      parent: AddressParent,
      args: { first?: number | null; after?: string | null },
      ctx: Ctx,
    ) => {
      await ctx.policy.authorize(parent.address, "accessLog");
      // The audit log grows with every read, outside the projections' read version.
      ctx.outcome.unversioned = true;
      const first = pageSize(args.first, ctx.limits.maxPageSize);
      const after = args.after ? decodeCursor(args.after, parent.address, 1) : null;
      const rows = await readAccessLog(ctx.db, parent.address, {
        before: after?.[0] ?? null,
        limit: first + 1,
      });
      return connection(
        rows.map(({ readAt, ...row }) => ({
          ...row,
          at: readAt,
          what: accessKinds[row.what] ?? row.what.toUpperCase(),
          rule: accessRules[row.rule] ?? row.rule.toUpperCase(),
          channel: row.channel.toUpperCase(),
          grantScopes: row.grantScopes === null ? null : scopeNames(row.grantScopes),
        })),
        first,
        (row) => encodeCursor(parent.address, [row.id]),
        !!after,
      );
    },
  },

  Grant: {
    scopes: (grant: { scopes: number }) => scopeNames(grant.scopes),
    scopeMask: (grant: { scopes: number }) => grant.scopes,
    granteeRole: async (grant: { grantee: string }, _: unknown, ctx: Ctx) =>
      ((await ctx.loaders.role.load(grant.grantee))?.role ?? "none").toUpperCase(),
    granteeOrganizationKind: async (grant: { grantee: string }, _: unknown, ctx: Ctx) =>
      organizationKindName((await ctx.loaders.role.load(grant.grantee))?.kind),
  },

  EmergencyAccess: {
    doctor: (access: { doctor: string }, _: unknown, ctx: Ctx) => ctx.loaders.doctor.load(access.doctor),
  },

  Doctor: {
    __resolveReference: (reference: AddressParent, ctx: Ctx) => ctx.loaders.doctor.load(reference.address),
    patients: async (doctor: DoctorRow, args: { first?: number | null }, ctx: Ctx) => {
      const first = pageSize(args.first, ctx.limits.maxPageSize, 50);
      ctx.policy.authorizeOwn(doctor.address, "patients");
      const rows = await ctx.loaders.patientsOf.load(doctor.address);
      return rows.slice(0, first).map((row) => ({ address: row.patient }));
    },
  },

  Organization: {
    __resolveReference: (reference: AddressParent, ctx: Ctx) =>
      ctx.loaders.organization.load(reference.address),
    kind: (organization: OrganizationRow) => organizationKindName(organization.kind),
    registrar: (organization: OrganizationRow) => organization.isRegistrar,
    patients: async (organization: OrganizationRow, args: { first?: number | null }, ctx: Ctx) => {
      const first = pageSize(args.first, ctx.limits.maxPageSize, 50);
      ctx.policy.authorizeOwn(organization.address, "patients");
      const rows = await ctx.loaders.patientsOf.load(organization.address);
      return rows.slice(0, first).map((row) => ({ address: row.patient }));
    },
  },
};

export const identitySubgraph: SubgraphDefinition<IdentityLoaders> = {
  name: "identity",
  typeDefs: loadTypeDefs(new URL("./schema.graphql", import.meta.url)),
  resolvers: identityResolvers,
  createLoaders: createIdentityLoaders,
};
