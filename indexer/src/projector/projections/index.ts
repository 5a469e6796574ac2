import type { EventEnvelope, EventName } from "@carechain/common";
import type { Row, TableName } from "../tables.ts";
import type { WorkingSet } from "../working-set.ts";
import { grantProjections } from "./grants.ts";
import { identityProjections } from "./identities.ts";
import { recordProjections } from "./records.ts";
import type { Projection, Projections } from "./values.ts";
import { vitalsProjections } from "./vitals.ts";

export { eventRow } from "./events.ts";

/** Every event type with an effect on the tables; others (OwnershipTransferred, ...) only enter `events`. */
const projections: Projections = {
  ...identityProjections,
  ...grantProjections,
  ...recordProjections,
  ...vitalsProjections,
};

function projectionOf(event: EventEnvelope): Projection<EventName> | undefined {
  return projections[event.type] as Projection<EventName> | undefined;
}

/** Rows the event reads or writes, to load before the fold. */
export function keysOf(event: EventEnvelope): Array<[TableName, Row]> {
  return projectionOf(event)?.keys(event) ?? [];
}

/** Applies the event's effects to the working set. */
export function project(event: EventEnvelope, rows: WorkingSet): void {
  projectionOf(event)?.apply(event, rows);
}
