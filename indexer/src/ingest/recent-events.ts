import type { EventEnvelope } from "@carechain/common";

/**
 * The envelopes published for the blocks of the window, so that a reorg can retract exactly what was
 * published. In memory only; after a restart they are read again from the chain (see recover.ts).
 */
export class RecentEvents {
  private readonly byBlock = new Map<number, EventEnvelope[]>();

  get blockCount(): number {
    return this.byBlock.size;
  }

  add(envelopes: readonly EventEnvelope[]): void {
    for (const envelope of envelopes) {
      const list = this.byBlock.get(envelope.blockNumber);
      if (list) list.push(envelope);
      else this.byBlock.set(envelope.blockNumber, [envelope]);
    }
  }

  /** The envelopes of blocks above `number`, in chain order (block, then log index). */
  after(number: number): EventEnvelope[] {
    return [...this.byBlock.entries()]
      .filter(([block]) => block > number)
      .sort(([a], [b]) => a - b)
      .flatMap(([, list]) => [...list].sort((a, b) => a.logIndex - b.logIndex));
  }

  dropAfter(number: number): void {
    for (const block of [...this.byBlock.keys()]) if (block > number) this.byBlock.delete(block);
  }

  dropBefore(number: number): void {
    for (const block of [...this.byBlock.keys()]) if (block < number) this.byBlock.delete(block);
  }
}
