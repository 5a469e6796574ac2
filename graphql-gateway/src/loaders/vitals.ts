import type { Database } from "../database/pool.ts";
import { byKeyLoader, groupedLoader, listByKeyLoader } from "./grouped.ts";
import {
  type AlertRow,
  alertColumns,
  type ReadingRow,
  readingColumns,
  type VitalsRangeRow,
  vitalsRangeColumns,
} from "./rows.ts";

/** Readings of one patient in [from, to), newest first, at most `limit`. */
export type ReadingsKey = { patient: string; limit: number; from: string | null; to: string | null };

/** Alerts of one patient, newest first; `recipient` keeps only the alerts naming that address. */
export type AlertsKey = ReadingsKey & { recipient: string | null };

/** Per-request loaders of the vitals subgraph. */
export function createVitalsLoaders(db: Database) {
  const p = db.projection;
  return {
    readings: groupedLoader<ReadingsKey, ReadingRow[]>(
      (key) => JSON.stringify([key.limit, key.from, key.to]),
      async (keys) => {
        const first = keys[0]!;
        const rows = await db.query<ReadingRow & { ord: string }>(
          `SELECT k.ord, ${readingColumns("v")}
             FROM unnest($1::text[]) WITH ORDINALITY AS k(patient, ord)
             CROSS JOIN LATERAL (
               SELECT * FROM ${p}.vital_readings v
                WHERE v.patient = k.patient
                  AND ($2::timestamptz IS NULL OR v.measured_at >= $2)
                  AND ($3::timestamptz IS NULL OR v.measured_at < $3)
                ORDER BY v.measured_at DESC, v.event_id
                LIMIT $4
             ) v
            ORDER BY k.ord, v.measured_at DESC, v.event_id`,
          [keys.map((k) => k.patient), first.from, first.to, first.limit],
        );
        return splitByOrdinal(keys.length, rows);
      },
    ),
    // One index probe per patient (patient, measured_at DESC): a patient's whole history is never read
    // and sorted to keep its first row, as DISTINCT ON would.
    latestReading: byKeyLoader<ReadingRow>(
      (patients) =>
        db.query(
          `SELECT ${readingColumns("v")}
             FROM unnest($1::text[]) AS k(patient)
             CROSS JOIN LATERAL (
               SELECT * FROM ${p}.vital_readings v
                WHERE v.patient = k.patient
                ORDER BY v.measured_at DESC, v.event_id
                LIMIT 1
             ) v`,
          [patients],
        ),
      (row) => row.patient,
    ),
    range: byKeyLoader<VitalsRangeRow>(
      (patients) =>
        db.query(`SELECT ${vitalsRangeColumns("r")} FROM ${p}.vitals_ranges r WHERE r.patient = ANY($1)`, [
          patients,
        ]),
      (row) => row.patient,
    ),
    /** The wearables each patient authorized, revoked ones too, oldest first. */
    devices: listByKeyLoader<{
      patient: string;
      address: string;
      authorizedAt: Date;
      revokedAt: Date | null;
    }>(
      (patients) =>
        db.query(
          `SELECT patient, device AS address, authorized_at AS "authorizedAt", revoked_at AS "revokedAt"
             FROM ${p}.devices WHERE patient = ANY($1) ORDER BY authorized_at, device`,
          [patients],
        ),
      (row) => row.patient,
    ),
    recipients: byKeyLoader<{ patient: string; recipients: string[] }>(
      (patients) =>
        db.query(`SELECT patient, recipients FROM ${p}.alert_recipients WHERE patient = ANY($1)`, [patients]),
      (row) => row.patient,
    ),
    alerts: groupedLoader<AlertsKey, AlertRow[]>(
      (key) => JSON.stringify([key.limit, key.from, key.to]),
      async (keys) => {
        const first = keys[0]!;
        const rows = await db.query<AlertRow & { ord: string }>(
          `SELECT k.ord, ${alertColumns("a")}
             FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(patient, recipient, ord)
             CROSS JOIN LATERAL (
               SELECT * FROM ${p}.alerts a
                WHERE a.patient = k.patient
                  AND (k.recipient IS NULL OR a.recipients @> ARRAY[k.recipient])
                  AND ($3::timestamptz IS NULL OR a.measured_at >= $3)
                  AND ($4::timestamptz IS NULL OR a.measured_at < $4)
                ORDER BY a.measured_at DESC, a.event_id
                LIMIT $5
             ) a
            ORDER BY k.ord, a.measured_at DESC, a.event_id`,
          [keys.map((k) => k.patient), keys.map((k) => k.recipient), first.from, first.to, first.limit],
        );
        return splitByOrdinal(keys.length, rows);
      },
    ),
  };
}

function splitByOrdinal<T>(count: number, rows: (T & { ord: string })[]): T[][] {
  const lists = Array.from({ length: count }, (): T[] => []);
  for (const { ord, ...row } of rows) lists[Number(ord) - 1]!.push(row as unknown as T);
  return lists;
}

export type VitalsLoaders = ReturnType<typeof createVitalsLoaders>;
