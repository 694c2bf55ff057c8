import { inject, injectable } from 'tsyringe';
import { JOURNAL } from '@episteme/consumers';
import type { Journal } from '@episteme/wal';
import { prepareAssertion, prepareRetraction, type PreparedEvent } from '../domain/prepare.js';

export interface Appended {
  offset: number;
  /** BLAKE3 of the stored payload, hex: the event's content address. */
  contentAddress: string;
  id: string;
}

/**
 * The write side of the app: validates input into domain events and appends
 * them. Nothing invalid ever reaches the log; a batch is validated whole
 * before any of it is appended.
 */
@injectable()
export class AssertionService {
  constructor(@inject(JOURNAL) private readonly journal: Journal) {}

  async assert(input: Record<string, unknown>, producer?: string): Promise<Appended> {
    const { id, payload } = prepareAssertion(input, producer);
    return this.appendOne(id, payload);
  }

  async retract(input: Record<string, unknown>, producer?: string): Promise<Appended> {
    const { id, payload } = prepareRetraction(input, producer);
    return this.appendOne(id, payload);
  }

  /** Appends prepared payloads with one write and one sync. */
  async appendPrepared(prepared: readonly Pick<PreparedEvent, 'payload'>[]): Promise<number[]> {
    return (await this.journal.appendBatch(prepared.map((p) => p.payload))).map((a) => a.offset);
  }

  private async appendOne(id: string, payload: Uint8Array): Promise<Appended> {
    // the append hands back the record's digest: no read back
    const { offset, blake3 } = await this.journal.append(payload);
    return { offset, contentAddress: Buffer.from(blake3).toString('hex'), id };
  }
}
