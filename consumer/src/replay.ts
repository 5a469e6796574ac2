import { defaultToleranceSeconds } from "./signature.ts";

/**
 * Refuses a signed webhook seen before (a replay of a captured request). What is remembered is what was
 * signed: webhook-id, webhook-timestamp and the matching signature (it covers the body), only for as long
 * as the timestamp check would still accept it: past timestamp + tolerance, verification refuses the
 * request as too old, so it can be forgotten. Memory is bounded by time, and by `maxEntries` on top (then
 * the oldest are forgotten first and counted).
 *
 * Why not the id alone: the sender signs each attempt afresh, so a genuine resend of an event (after a
 * timeout, or a "redeliver from here") has the same id and a new timestamp. That is a duplicate to
 * acknowledge and drop (the receiver's job, by event id), not an attack to refuse; refusing it would make
 * the sender retry it for nothing.
 */
export class ReplayGuard {
  readonly #toleranceMs: number;
  readonly #maxEntries: number;
  /** key -> when it may be forgotten (ms); insertion order is roughly expiry order (timestamps grow). */
  readonly #seen = new Map<string, number>();
  #forgottenEarly = 0;

  constructor(options: { toleranceSeconds?: number; maxEntries?: number } = {}) {
    this.#toleranceMs = (options.toleranceSeconds ?? defaultToleranceSeconds) * 1000;
    this.#maxEntries = options.maxEntries ?? 200_000;
  }

  /**
   * Records the message and returns true the first time; false for a replay. Call it only after the
   * signature and timestamp were verified (an unsigned request must not fill the memory).
   */
  admit(message: { id: string; timestamp: Date; signature?: string }, now: Date = new Date()): boolean {
    this.#evict(now.getTime());
    // With the signature: the same id and second with another body is another message, not a replay.
    const key = `${message.timestamp.getTime()}.${message.signature ?? ""}.${message.id}`;
    if (this.#seen.has(key)) return false;
    // + 1 s: verification compares whole seconds, so it still accepts until the next second begins.
    this.#seen.set(key, message.timestamp.getTime() + this.#toleranceMs + 1000);
    if (this.#seen.size > this.#maxEntries) {
      const oldest = this.#seen.keys().next().value as string;
      this.#seen.delete(oldest);
      this.#forgottenEarly++;
    }
    return true;
  }

  /** Entries remembered now. */
  get size(): number {
    return this.#seen.size;
  }

  /** Entries dropped for `maxEntries` before their time was up (a replay of those would pass: raise it). */
  get forgottenEarly(): number {
    return this.#forgottenEarly;
  }

  #evict(nowMs: number): void {
    // From the oldest inserted; stops at the first still needed (a later one may wait for the next call).
    for (const [key, until] of this.#seen) {
      if (until >= nowMs) break;
      this.#seen.delete(key);
    }
  }
}
