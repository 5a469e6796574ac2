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
  activeGrantsCondition,
  createGeneration,
  ensureActiveGeneration,
  type Generation,
  generationGroupId,
  getActiveGeneration,
  internalTables,
  listGenerations,
  openEmergencyAccessCondition,
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
  ingestEnvSchema,
  ingestOptionsFromEnv,
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
export { type Dump, dumpedTables, dumpProjections } from "./projector/dump.ts";
export { appendFeed } from "./projector/feed.ts";
export { type RebuildResult, rebuild } from "./projector/rebuild.ts";
export { referenceFold } from "./projector/reference-fold.ts";
export {
  createProjector,
  type Projector,
  type ProjectorOptions,
  type ProjectorSettings,
} from "./projector/service.ts";
