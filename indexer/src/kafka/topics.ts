/**
 * Kafka topics of the pipeline. The prefix lets each test (and each deployment) have its own set.
 * - events: the replayable log of envelopes, keyed by patient address; never deleted (retention -1).
 * - deadLetter: chain logs that did not decode, with the reason; kept for inspection.
 * - checkpoints: ingest's resume point, written in the same Kafka transaction as the events it covers;
 *   compacted, one key per chain.
 */
export type TopicNames = {
  events: string;
  deadLetter: string;
  checkpoints: string;
};

export function topicNames(prefix = "carechain"): TopicNames {
  return {
    events: `${prefix}.events.v1`,
    deadLetter: `${prefix}.events.dead-letter.v1`,
    checkpoints: `${prefix}.ingest.checkpoints.v1`,
  };
}
