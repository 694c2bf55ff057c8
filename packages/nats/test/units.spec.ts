import { describe, expect, it } from 'vitest';
import { headers } from '@nats-io/transport-node';
import { isEpistemeError } from '@episteme/wal';
import { isNatsClusterError, NatsClusterError, NatsErrorCodes, NatsLog, positionAfter } from '../src/index.js';
import { RecordBuffer } from '../src/log/recordBuffer.js';
import { relayedPositions } from '../src/messageHeaders.js';
import { parseAck, WRONG_LAST_SEQUENCE } from '../src/publishWindow.js';
import { commitMsgId, subjectOf } from '../src/store/subjects.js';
import { isTransient, retryTransient } from '../src/transient.js';
import { leaderStreamInfo, LeaderlessAnswerError } from '../src/streamLayout.js';
import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';

const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

describe('JetStream acknowledgements as the relay reads them', () => {
  it('an ack, a duplicate, a refused expected sequence, no leader, and a status-only 503 reply', () => {
    expect(parseAck(json({ stream: 's', seq: 7 }), undefined)).toEqual({ ok: true, seq: 7, duplicate: false });
    expect(parseAck(json({ stream: 's', seq: 7, duplicate: true }), undefined)).toEqual({ ok: true, seq: 7, duplicate: true });
    expect(parseAck(json({ error: { code: 400, err_code: WRONG_LAST_SEQUENCE, description: 'wrong last sequence: 9' } }), undefined)).toMatchObject({ ok: false, retryable: false, errCode: WRONG_LAST_SEQUENCE });
    expect(parseAck(json({ error: { code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' } }), undefined)).toMatchObject({ ok: false, retryable: true });
    expect(parseAck(new Uint8Array(0), headers(503, 'No Responders'))).toMatchObject({ ok: false, retryable: true, code: 503 });
    expect(parseAck(new TextEncoder().encode('not json'), undefined)).toMatchObject({ ok: false, retryable: false });
    expect(parseAck(json({ stream: 's' }), undefined)).toMatchObject({ ok: false, retryable: false });
  });

  it('positions in a relayed message: read back, or NATS_FOREIGN_MESSAGE when absent or malformed', () => {
    const h = headers();
    h.set('Episteme-Offset', '100');
    h.set('Episteme-Next', '164');
    expect(relayedPositions(h, 's', 3)).toEqual({ offset: 100, next: 164 });
    for (const [offset, next] of [['', '1'], ['5', '5'], ['-1', '3'], ['1e3', '2000'], ['99999999999999999', '1']]) {
      const bad = headers();
      bad.set('Episteme-Offset', offset!);
      bad.set('Episteme-Next', next!);
      expect(() => relayedPositions(bad, 's', 3)).toThrow(expect.objectContaining({ code: 'NATS_FOREIGN_MESSAGE' }));
    }
    expect(() => relayedPositions(undefined, 's', 3)).toThrow(expect.objectContaining({ code: 'NATS_FOREIGN_MESSAGE' }));
  });
});

describe('RecordBuffer: positions over stream sequences', () => {
  it('records are contiguous over deleted sequences; boundaries and purges follow them', () => {
    const b = new RecordBuffer();
    b.reset(positionAfter(4)); // the stream starts at sequence 5
    b.push(5, new Uint8Array([5]));
    b.push(6, new Uint8Array([6]));
    b.push(9, new Uint8Array([9])); // 7 and 8 deleted
    expect(b.earliest).toBe(positionAfter(4));
    expect(b.head).toBe(positionAfter(9));
    expect(b.at(2)).toMatchObject({ offset: positionAfter(6), next: positionAfter(9) });
    expect(b.indexAt(positionAfter(6))).toBe(2);
    expect(b.indexAt(positionAfter(7))).toBe(-1); // inside the record that spans the deleted ones
    expect(b.indexAtOrBefore(positionAfter(8))).toBe(2);
    expect(b.at(0)!.blake3).toHaveLength(32);
    expect(b.bytes).toBe(3);
    b.dropBelow(positionAfter(5));
    expect(b.earliest).toBe(positionAfter(5));
    expect(b.size).toBe(2);
    expect(b.bytes).toBe(2);
    b.dropBelow(positionAfter(20));
    expect(b.size).toBe(0);
    expect(b.bytes).toBe(0);
    expect(b.earliest).toBe(positionAfter(20));
  });
});

describe('NatsLog options', () => {
  it('a read-ahead window that is not a positive integer: NATS_INVALID_ARGUMENT before any connection', async () => {
    for (const bad of [{ readAheadRecords: 0 }, { readAheadRecords: 1.5 }, { readAheadBytes: -1 }, { readAheadBytes: '8MB' as unknown as number }]) {
      await expect(NatsLog.open({ servers: ['nats://127.0.0.1:1'], stream: 's', ...bad })).rejects.toMatchObject({ code: 'NATS_INVALID_ARGUMENT' });
    }
  });
});

describe('subjects and message ids of the cluster store', () => {
  it('one subject token per stream name, whatever its characters; the same given ids give the same message id', () => {
    expect(subjectOf('p', 'a.b*c>d e')).toMatch(/^p\.[A-Za-z0-9_-]+$/);
    expect(subjectOf('p', 'x')).not.toBe(subjectOf('p', 'y'));
    const fresh = (): string => 'fresh';
    expect(commitMsgId('s', ['a', 'b'], fresh)).toBe(commitMsgId('s', ['a', 'b'], fresh));
    expect(commitMsgId('s', ['a', 'b'], fresh)).not.toBe(commitMsgId('t', ['a', 'b'], fresh));
    expect(commitMsgId('s', ['ab'], fresh)).not.toBe(commitMsgId('s', ['a', 'b'], fresh));
    expect(commitMsgId('s', [], fresh)).toBe('fresh');
  });
});

describe('errors', () => {
  it('every code has a category; the guard checks the brand and the code', () => {
    for (const code of Object.values(NatsErrorCodes)) {
      const error = new NatsClusterError(code, 'x');
      expect(error.category).toMatch(/^(invalid-input|not-found|conflict|corrupt|io|state)$/);
      expect(isNatsClusterError(error, code)).toBe(true);
      expect(isEpistemeError(error)).toBe(true);
    }
    expect(isNatsClusterError(new Error('x'))).toBe(false);
  });

  it('failover symptoms are transient; refusals are not', () => {
    const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });
    expect(isTransient(named('JetStreamNotEnabled', 'jetstream is not enabled'))).toBe(true);
    expect(isTransient(named('TimeoutError', 'timeout'))).toBe(true);
    expect(isTransient(new Error('no suitable peers for placement'))).toBe(true);
    // a stream's API during an election (seen from getMessage while the relay read its resume point)
    expect(isTransient(named('JetStreamApiError', 'JetStream system temporarily unavailable'))).toBe(true);
    expect(isTransient(new Error('wrong last sequence: 5'))).toBe(false);
    expect(isTransient(new Error('stream name already in use with a different configuration'))).toBe(false);
    expect(isTransient('no responders')).toBe(false);
  });
});

describe('stream info only from a leader', () => {
  // A replica restarted after a SIGKILL answers info requests with its own
  // stale state while it knows no leader (seen on 2.9.10: 6,267 messages where
  // the leader held 30,000); a read that trusted it stopped short.
  const infoWith = (cluster: { leader?: string } | undefined, last: number) => ({ cluster, state: { last_seq: last, first_seq: 1, messages: last } }) as unknown as StreamInfo;
  const jsmAnswering = (...answers: StreamInfo[]) => ({ streams: { info: async () => answers.shift()! } }) as unknown as JetStreamManager;

  it('refuses an answer that names no leader as transient, and retrying reaches the leader', async () => {
    const stale = infoWith({}, 6267);
    const error = await leaderStreamInfo(jsmAnswering(stale), 's').then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(LeaderlessAnswerError);
    expect(isTransient(error)).toBe(true);
    const jsm = jsmAnswering(stale, stale, infoWith({ leader: 'n2' }, 30000));
    expect((await retryTransient(() => leaderStreamInfo(jsm, 's'), { what: 'test' })).state.last_seq).toBe(30000);
  });

  it('takes a single server\'s answer, which carries no cluster', async () => {
    expect((await leaderStreamInfo(jsmAnswering(infoWith(undefined, 5)), 's')).state.last_seq).toBe(5);
  });
});
