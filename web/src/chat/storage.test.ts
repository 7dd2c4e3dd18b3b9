import { describe, expect, it } from 'vitest';
import type { ServerFrame } from './protocol';
import { ChatStorage, HISTORY_LIMIT, MemoryStore, fromStored, toStored } from './storage';
import type { TranscriptEvent } from './transcript';
import { emptyTranscript, reduce } from './transcript';

const f = (frame: ServerFrame): TranscriptEvent => ({ type: 'frame', frame });

function conversation(sessionId: number, firstText: string) {
  return [
    f({ type: 'session', seq: 1, session_id: sessionId, resume_token: `tok-${sessionId}`, resumed: false }),
    { type: 'local-send', clientId: 'c-1', text: firstText, at: '2026-01-01T00:00:00Z' } as TranscriptEvent,
    { type: 'sent', clientId: 'c-1' } as TranscriptEvent,
    f({ type: 'ack', seq: 2, id: 'c-1', message_id: 10 }),
    f({ type: 'typing', seq: 3 }),
    f({ type: 'message', seq: 4, id: 11, reply_to: 10, role: 'assistant', text: 'Answer', source: 'fallback' }),
    { type: 'local-send', clientId: 'c-2', text: 'not yet sent', at: '2026-01-01T00:01:00Z' } as TranscriptEvent,
    { type: 'sent', clientId: 'c-2' } as TranscriptEvent,
    f({ type: 'typing', seq: 5 }),
    f({ type: 'delta', seq: 6, reply_to: 12, offset: 0, text: 'half an ans' }),
  ].reduce(reduce, emptyTranscript());
}

describe('ChatStorage', () => {
  it('a reload restores the transcript, the unsent message and last_seq', () => {
    const store = new MemoryStore();
    const t = conversation(7, 'Where is my order?');
    new ChatStorage(store).save(toStored('7', t, { ended: false, createdAt: 1, updatedAt: 2 }));
    new ChatStorage(store).setCurrentKey('7');

    const again = new ChatStorage(store);
    const key = again.currentKey();
    expect(key).toBe('7');
    const restored = fromStored(again.load(key!)!);
    expect(restored.sessionId).toBe(7);
    expect(restored.resumeToken).toBe('tok-7');
    expect(restored.lastSeq).toBe(6);
    expect(restored.messages.map((m) => [m.role, m.text, m.status])).toEqual([
      ['user', 'Where is my order?', 'acked'],
      ['assistant', 'Answer', 'done'],
      // what was on the wire is queued again; the half-streamed answer is
      // left for the server to resend
      ['user', 'not yet sent', 'pending'],
    ]);
    // The answer was fresh on the page that saw it arrive; after a reload it
    // shows at once.
    expect(t.messages[1]!.fresh).toBe(true);
    expect(restored.messages.some((m) => 'fresh' in m)).toBe(false);
  });

  it('keeps a history entry titled by the first user message, newest first, at most 30', () => {
    const storage = new ChatStorage(new MemoryStore());
    for (let i = 1; i <= HISTORY_LIMIT + 5; i++) {
      const t = conversation(i, `Question number ${i}`);
      storage.save(toStored(String(i), t, { ended: false, createdAt: i, updatedAt: i }));
    }
    const history = storage.history();
    expect(history).toHaveLength(HISTORY_LIMIT);
    expect(history[0]).toMatchObject({ sessionId: HISTORY_LIMIT + 5, title: `Question number ${HISTORY_LIMIT + 5}`, resumeToken: `tok-${HISTORY_LIMIT + 5}` });
    expect(history.at(-1)!.sessionId).toBe(6);
    // The conversations that fell out of the history are gone from storage too.
    expect(storage.load('1')).toBeNull();
    expect(storage.load('6')).not.toBeNull();
  });

  it('a conversation without a user message gets no history entry', () => {
    const storage = new ChatStorage(new MemoryStore());
    const t = reduce(emptyTranscript(), f({ type: 'session', seq: 1, session_id: 3, resume_token: 'x', resumed: false }));
    storage.save(toStored('3', t, { ended: false, createdAt: 1, updatedAt: 1 }));
    expect(storage.history()).toEqual([]);
  });

  it('renames a new conversation once the server names it', () => {
    const store = new MemoryStore();
    const storage = new ChatStorage(store);
    storage.setCurrentKey('new-abc-1');
    const t = conversation(9, 'hi');
    storage.rename('new-abc-1', toStored('9', t, { ended: false, createdAt: 1, updatedAt: 1 }));
    expect(storage.currentKey()).toBe('9');
    expect(storage.load('new-abc-1')).toBeNull();
    expect(storage.load('9')?.sessionId).toBe(9);
  });

  it('two tabs on two conversations do not overwrite each other', () => {
    const store = new MemoryStore();
    const tabA = new ChatStorage(store);
    const tabB = new ChatStorage(store);
    tabA.save(toStored('1', conversation(1, 'from A'), { ended: false, createdAt: 1, updatedAt: 1 }));
    tabB.save(toStored('2', conversation(2, 'from B'), { ended: false, createdAt: 2, updatedAt: 2 }));
    tabA.save(toStored('1', conversation(1, 'from A'), { ended: false, createdAt: 1, updatedAt: 3 }));
    expect(tabB.load('1')?.messages[0]?.text).toBe('from A');
    expect(tabA.load('2')?.messages[0]?.text).toBe('from B');
    expect(tabA.history().map((e) => e.sessionId)).toEqual([1, 2]);
  });

  it('survives garbage in storage', () => {
    const store = new MemoryStore();
    store.setItem('parley.v1.current', '7');
    store.setItem('parley.v1.session.7', '{not json');
    store.setItem('parley.v1.history', '{"a":1}');
    const storage = new ChatStorage(store);
    expect(storage.load('7')).toBeNull();
    expect(storage.history()).toEqual([]);
    store.setItem('parley.v1.session.8', JSON.stringify({ v: 1, key: '8', messages: [{ key: 'x', role: 'user', text: 1 }, null] }));
    expect(storage.load('8')?.messages).toEqual([]);
  });

  it('when storage is full, drops the oldest transcripts to keep the current one', () => {
    const store = new MemoryStore(6000);
    const storage = new ChatStorage(store);
    for (let i = 1; i <= 5; i++)
      storage.save(toStored(String(i), conversation(i, `q${i} ${'x'.repeat(300)}`), { ended: false, createdAt: i, updatedAt: i }));
    const big = conversation(6, `q6 ${'y'.repeat(1500)}`);
    expect(storage.save(toStored('6', big, { ended: false, createdAt: 6, updatedAt: 6 }))).toBe(true);
    expect(storage.load('6')).not.toBeNull();
    expect(storage.load('1')).toBeNull();
  });
});
