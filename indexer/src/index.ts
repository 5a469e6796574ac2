// @carechain/indexer: ingest (chain -> Kafka), projector (Kafka -> PostgreSQL) and the database schema.

// Projector and projection schema
export {
  type MigrateOptions,
  metaMigrationsDir,
  migrate,
  projectionMigrationsDir,
} from "./database/migrate.ts";
export { createPool, inTransaction, type Pool, type PoolClient } from "./database/pool.ts";
export {
  activateGeneration,
  createGeneration,
  ensureActiveGeneration,
  type Generation,
  generationGroupId,
  getActiveGeneration,
  internalTables,
  listGenerations,
  type SchemaNames,
  schemaNames,
} from "./database/schemas.ts";
export {
  type Checkpoint,
  checkpointKey,
  parseCheckpoint,
  readLatestCheckpoint,
} from "./ingest/checkpoint.ts";
export {
  defaultIngestOptions,
  type IngestOptions,
  ingestEnvironment,
  ingestEnvSchema,
} from "./ingest/config.ts";
export { DEAD_LETTER_HEADERS } from "./ingest/dead-letter.ts";
export { createIngest, type Ingest, type IngestState, type IngestStatus } from "./ingest/service.ts";

// Ingest (chain -> Kafka) and the Kafka helpers shared with the projector
export {
  createKafkaClient,
  type EnsureTopicsOptions,
  EVENT_HEADERS,
  ensureTopics,
  envelopeMessage,
  type KafkaClientOptions,
  type ReadToEndOptions,
  readToEnd,
  type TopicNames,
  topicNames,
} from "./kafka/index.ts";
export { applyBatch } from "./projector/apply.ts";
export { projectorEnvironment, projectorEnvSchema } from "./projector/config.ts";
export { type Dump, dumpedTables, dumpProjections } from "./projector/dump.ts";
export { type RebuildResult, rebuild } from "./projector/rebuild.ts";
export { referenceFold } from "./projector/reference-fold.ts";
export {
  createProjector,
  type Projector,
  type ProjectorOptions,
  type ProjectorSettings,
} from "./projector/service.ts";
export { tableColumns } from "./projector/sql.ts";
