import { describe, expect, it } from 'vitest';
import { greet, harness, type Harness } from '../../test/fakes';
import { ChatController, INVALID_RESUME_NOTICE } from './controller';
import { ChatStorage, MemoryStore } from './storage';

function page(store: MemoryStore, pageId = 'pageA'): { h: Harness; c: ChatController; storage: ChatStorage } {
  const h = harness();
  const storage = new ChatStorage(store);
  const c = new ChatController({ storage, connection: h.connection, now: () => h.clock.now(), pageId });
  return { h, c, storage };
}

const texts = (c: ChatController) => c.getState().transcript.messages.map((m) => `${m.role}:${m.text}:${m.status}`);

describe('ChatController', () => {
  it('stores a message before it goes out, so a reload sends it (once, same id) and resumes with last_seq', () => {
    const store = new MemoryStore();
    const a = page(store);
    a.c.init();
    greet(a.h.last(), 7, 'tok', 1);
    const sent = a.c.send('Where is my order?');
    expect(sent.ok).toBe(true);
    const id = sent.ok ? sent.clientId : '';
    expect(id).toMatch(/^c-pageA-\d+$/);
    expect(a.h.last().messages()).toEqual([{ type: 'message', text: 'Where is my order?', id }]);
    // The page goes away before the ack.
    const b = page(store, 'pageB');
    b.c.init();
    expect(texts(b.c)).toEqual(['user:Where is my order?:pending']);
    const s = b.h.last();
    expect(s.params().get('session_id')).toBe('7');
    expect(s.params().get('last_seq')).toBe('1');
    greet(s, 7, 'tok', 0);
    expect(s.messages()).toEqual([{ type: 'message', text: 'Where is my order?', id }]);
    s.receive({ type: 'ack', seq: 2, id, message_id: 10 });
    s.receive({ type: 'message', seq: 4, id: 11, reply_to: 10, role: 'assistant', text: 'Which order?', source: 'fallback' });
    expect(texts(b.c)).toEqual(['user:Where is my order?:acked', 'assistant:Which order?:done']);
    expect(b.c.snapshot()).toEqual({ sessionId: 7, lastSeq: 4 });
    // And a third load shows it at once, before any socket says anything.
    const c3 = page(store, 'pageC');
    c3.c.init();
    expect(texts(c3.c)).toEqual(['user:Where is my order?:acked', 'assistant:Which order?:done']);
    expect(c3.h.last().params().get('last_seq')).toBe('4');
  });

  it('queues while offline before any session exists, and a reload still has the queue', () => {
    const store = new MemoryStore();
    const a = page(store);
    a.h.online.value = false;
    a.h.connection.setOnline(false);
    a.c.init();
    a.c.send('hello?');
    expect(a.h.sockets).toHaveLength(0);
    const b = page(store, 'pageB');
    b.c.init();
    expect(texts(b.c)).toEqual(['user:hello?:pending']);
    greet(b.h.last(), 3, 't', 1);
    expect(b.h.last().messages().map((m) => m.text)).toEqual(['hello?']);
    expect(store.getItem('parley.v1.current')).toBe('3');
  });

  it('refuses empty and over-long messages', () => {
    const a = page(new MemoryStore());
    a.c.init();
    greet(a.h.last());
    expect(a.c.send('   \n ')).toEqual({ ok: false, reason: 'empty' });
    a.c.setConfig({ ...a.c.getState().config, maxMessageBytes: 10 });
    expect(a.c.send('ääääää')).toEqual({ ok: false, reason: 'too-long' }); // 6 chars, 12 bytes
    expect(a.c.getState().transcript.error?.code).toBe('message_too_long');
    expect(a.h.last().messages()).toEqual([]);
    expect(a.c.send('äääää').ok).toBe(true); // 10 bytes: fits
  });

  it('1008: keeps the old conversation readable in the history and starts a new one with the undelivered messages', () => {
    const store = new MemoryStore();
    const a = page(store);
    a.c.init();
    greet(a.h.last(), 5, 'tok5', 1);
    a.c.send('first');
    a.h.last().receive({ type: 'ack', seq: 2, id: a.h.last().messages()[0]!.id, message_id: 1 });
    a.h.last().serverClose(1006);
    a.c.send('written while away');
    // The server lost the session (database reset): resume refused.
    a.h.clock.advance(a.h.clock.nextDelay()!);
    a.h.last().receive({ type: 'error', seq: 0, code: 'invalid_resume', message: 'unknown session or wrong resume token' });
    a.h.last().serverClose(1008);
    const st = a.c.getState();
    expect(st.notice).toBe(INVALID_RESUME_NOTICE);
    expect(texts(a.c)).toEqual(['user:written while away:pending']);
    expect(st.transcript.sessionId).toBeNull();
    const fresh = a.h.last();
    expect(fresh.params().get('session_id')).toBeNull();
    greet(fresh, 6, 'tok6', 1);
    expect(fresh.messages().map((m) => m.text)).toEqual(['written while away']);
    const history = a.storage.history();
    expect(history.find((e) => e.sessionId === 5)).toMatchObject({ ended: true, title: 'first' });
    // Opening the old one shows it read-only without connecting.
    const sockets = a.h.sockets.length;
    a.c.openSession(5);
    expect(a.c.getState().ended).toBe(true);
    expect(texts(a.c)).toEqual(['user:first:acked']);
    expect(a.h.sockets).toHaveLength(sockets);
    expect(a.c.send('x')).toEqual({ ok: false, reason: 'read-only' });
  });

  it('opening a past conversation resumes it from seq 0 and merges the replay without doubles', () => {
    const store = new MemoryStore();
    const a = page(store);
    a.c.init();
    greet(a.h.last(), 5, 'tok5', 1);
    a.c.send('old question');
    const id = a.h.last().messages()[0]!.id;
    a.h.last().receive({ type: 'ack', seq: 2, id, message_id: 1 });
    a.c.newChat();
    greet(a.h.last(), 6, 'tok6', 1);
    a.c.send('new question');
    expect(a.storage.history().map((e) => e.sessionId)).toEqual(expect.arrayContaining([5, 6]));

    a.c.openSession(5);
    expect(texts(a.c)).toEqual(['user:old question:acked']);
    const s = a.h.last();
    expect(s.params().get('session_id')).toBe('5');
    expect(s.params().get('resume_token')).toBe('tok5');
    expect(s.params().get('last_seq')).toBe('0');
    greet(s, 5, 'tok5', 0);
    s.receive({ type: 'ack', seq: 2, id, message_id: 1, text: 'old question' });
    s.receive({ type: 'message', seq: 4, id: 2, reply_to: 1, role: 'assistant', text: 'Answered while away', source: 'fallback' });
    expect(texts(a.c)).toEqual(['user:old question:acked', 'assistant:Answered while away:done']);
    expect(a.c.snapshot()).toEqual({ sessionId: 5, lastSeq: 4 });
  });

  it('a conversation only in the history (no local copy) is rebuilt from the replay', () => {
    const store = new MemoryStore();
    store.setItem(
      'parley.v1.history',
      JSON.stringify([{ sessionId: 12, resumeToken: 'tk12', title: 'Returns', createdAt: 1, updatedAt: 1 }]),
    );
    const a = page(store);
    a.c.init();
    a.c.openSession(12);
    const s = a.h.last();
    expect(s.params().get('last_seq')).toBe('0');
    greet(s, 12, 'tk12', 0);
    s.receive({ type: 'ack', seq: 2, id: 'c-other-1', message_id: 30, text: 'What is your return policy?' });
    s.receive({ type: 'message', seq: 3, id: 31, reply_to: 30, role: 'assistant', text: '30 days.', source: 'fallback' });
    expect(texts(a.c)).toEqual(['user:What is your return policy?:acked', 'assistant:30 days.:done']);
  });

  it('4000: stops, says so, and takes the conversation back on request with what the other tab stored', () => {
    const store = new MemoryStore();
    const a = page(store);
    a.c.init();
    greet(a.h.last(), 5, 'tok5', 1);
    a.c.send('from A');
    a.h.last().receive({ type: 'ack', seq: 2, id: a.h.last().messages()[0]!.id, message_id: 1 });

    const b = page(store, 'pageB');
    b.c.init();
    a.h.last().serverClose(4000);
    expect(a.c.getState().replaced).toBe(true);
    greet(b.h.last(), 5, 'tok5', 0);
    b.c.send('from B');
    b.h.last().receive({ type: 'ack', seq: 3, id: b.h.last().messages()[0]!.id, message_id: 2 });

    a.h.clock.advance(60_000);
    expect(a.h.sockets).toHaveLength(1); // no fight
    expect(a.c.send('x')).toEqual({ ok: false, reason: 'read-only' });
    a.c.takeBack();
    expect(a.c.getState().replaced).toBe(false);
    expect(texts(a.c)).toEqual(['user:from A:acked', 'user:from B:acked']);
    expect(a.h.last().params().get('last_seq')).toBe('3');
  });

  it('new chat connects without a session and keeps the old one in the history', () => {
    const store = new MemoryStore();
    const a = page(store);
    a.c.init();
    greet(a.h.last(), 5, 'tok5', 1);
    a.c.send('keep me');
    a.c.newChat();
    expect(a.c.getState().transcript.messages).toEqual([]);
    expect(a.h.last().params().get('session_id')).toBeNull();
    expect(a.storage.history().map((e) => e.title)).toEqual(['keep me']);
  });

  it('Stop after a reload cancels the answer the re-sent typing names', () => {
    const store = new MemoryStore();
    const a = page(store);
    a.c.init();
    greet(a.h.last(), 7, 'tok', 1);
    const sent = a.c.send('Tell me a long story');
    const id = sent.ok ? sent.clientId : '';
    a.h.last().receive({ type: 'ack', seq: 2, id, message_id: 10 });
    a.h.last().receive({ type: 'typing', seq: 3, reply_to: 10 });
    // The page reloads while the answer is generated.
    const b = page(store, 'pageB');
    b.c.init();
    const s = b.h.last();
    greet(s, 7, 'tok', 0);
    expect(b.c.stopGenerating()).toBe(false); // nothing is generated on this socket yet
    s.receive({ type: 'typing', seq: 5, reply_to: 10 });
    expect(b.c.stopGenerating()).toBe(true);
    expect(s.frames().at(-1)).toEqual({ type: 'cancel', reply_to: 10 });
    // Cancelled before its first piece: an empty final message, stored as shown.
    s.receive({ type: 'message', seq: 6, id: 11, reply_to: 10, role: 'assistant', text: '', source: 'llm', finish_reason: 'cancelled' });
    expect(texts(b.c)).toEqual(['user:Tell me a long story:acked', 'assistant::done']);
    expect(page(store, 'pageC').storage.load('7')?.messages.at(-1)).toMatchObject({ finishReason: 'cancelled', text: '' });
  });

  it('an error naming a message marks that message failed, and only it', () => {
    const a = page(new MemoryStore());
    a.c.init();
    greet(a.h.last(), 7, 'tok', 1);
    const one = a.c.send('one');
    const two = a.c.send('two');
    const idTwo = two.ok ? two.clientId : '';
    a.h.last().receive({ type: 'error', seq: 2, code: 'empty_message', message: 'empty', client_id: idTwo });
    expect(texts(a.c)).toEqual(['user:one:sent', 'user:two:failed']);
    expect(a.c.getState().transcript.error).toMatchObject({ code: 'empty_message', clientId: idTwo });
    a.h.last().receive({ type: 'ack', seq: 3, id: one.ok ? one.clientId : '', message_id: 10 });
    expect(texts(a.c)).toEqual(['user:one:acked', 'user:two:failed']);
  });

  it('the handoff follows the session status across a reload, and is stored', () => {
    const store = new MemoryStore();
    const a = page(store);
    a.c.init();
    greet(a.h.last(), 7, 'tok', 1);
    a.h.last().receive({ type: 'ack', seq: 2, id: null, message_id: 10, text: 'a person please' });
    a.h.last().receive({
      type: 'message', seq: 3, id: 11, reply_to: 10, role: 'assistant', text: 'Connecting you with our team.', source: 'fallback', handoff: true,
    });
    expect(a.c.getState().transcript.handoff).toEqual({ active: true, agentName: null });
    // A reload shows it at once, from storage…
    const b = page(store, 'pageB');
    b.c.init();
    expect(b.c.getState().transcript.handoff.active).toBe(true);
    // …and the server says the team handed it back meanwhile (the replayed notice has no flag).
    b.h.last().receive({ type: 'session', seq: 0, session_id: 7, resume_token: 'tok', resumed: true, status: 'active' });
    b.h.last().receive({ type: 'message', seq: 5, id: 12, reply_to: null, role: 'assistant', text: "You're back with the assistant.", source: 'system' });
    expect(b.c.getState().transcript.handoff.active).toBe(false);
    expect(page(store, 'pageC').storage.load('7')?.handoff).toEqual({ active: false, agentName: null });
  });
});
