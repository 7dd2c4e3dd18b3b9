import { describe, expect, it } from 'vitest';
import type { ServerFrame } from './protocol';
import type { TranscriptEvent, TranscriptState } from './transcript';
import { applyDelta, emptyTranscript, generatingReply, reduce, unsentMessages } from './transcript';

const run = (events: TranscriptEvent[], start: TranscriptState = emptyTranscript()) => events.reduce(reduce, start);
const f = (frame: ServerFrame): TranscriptEvent => ({ type: 'frame', frame });
const send = (clientId: string, text: string): TranscriptEvent => ({ type: 'local-send', clientId, text, at: '2026-01-01T10:00:00Z' });

const session = (seq = 1): ServerFrame => ({ type: 'session', seq, session_id: 7, resume_token: 'tok', resumed: seq === 0 });
const ack = (seq: number, id: string | null, messageId: number, text?: string): ServerFrame =>
  text === undefined ? { type: 'ack', seq, id, message_id: messageId } : { type: 'ack', seq, id, message_id: messageId, text };
const typing = (seq: number, replyTo?: number): ServerFrame => (replyTo === undefined ? { type: 'typing', seq } : { type: 'typing', seq, reply_to: replyTo });
const delta = (seq: number, replyTo: number, offset: number, text: string): ServerFrame => ({ type: 'delta', seq, reply_to: replyTo, offset, text });
const reply = (seq: number, id: number, replyTo: number | null, text: string, extra: Partial<Extract<ServerFrame, { type: 'message' }>> = {}): ServerFrame => ({
  type: 'message',
  seq,
  id,
  reply_to: replyTo,
  role: 'assistant',
  text,
  source: 'llm',
  ...extra,
});
const bytes = (s: string) => new TextEncoder().encode(s).length;

describe('applyDelta (UTF-8 byte offsets)', () => {
  it('appends pieces in order', () => {
    let r = applyDelta('', [], 0, 'Hello');
    r = applyDelta(r.text, r.pieces, 5, ', world');
    expect(r).toEqual({ text: 'Hello, world', pieces: [] });
  });

  it('counts offsets in bytes, not UTF-16 units', () => {
    const first = 'Grüße 👋 '; // ü and ß: 2 bytes, the emoji: 4 bytes (2 UTF-16 units)
    expect(bytes(first)).toBe(13);
    expect(first.length).toBe(9);
    let r = applyDelta('', [], 0, first);
    r = applyDelta(r.text, r.pieces, 13, 'café ☕');
    expect(r.text).toBe('Grüße 👋 café ☕');
    r = applyDelta(r.text, r.pieces, bytes('Grüße 👋 café ☕'), '!');
    expect(r.text).toBe('Grüße 👋 café ☕!');
  });

  it('does not duplicate a piece that overlaps what is there', () => {
    // After a resume the server sends everything so far from offset 0.
    let r = applyDelta('Das Wetter ist schö', [], 0, 'Das Wetter ist schön heute');
    expect(r.text).toBe('Das Wetter ist schön heute');
    // A piece entirely inside what we have adds nothing.
    r = applyDelta(r.text, r.pieces, 4, 'Wetter');
    expect(r.text).toBe('Das Wetter ist schön heute');
    // Overlapping the end by a multi-byte character.
    r = applyDelta('naïve ré', [], bytes('naïve r'), 'ésumé');
    expect(r.text).toBe('naïve résumé');
  });

  it('holds a piece that starts past the end until the gap is filled', () => {
    let r = applyDelta('abc', [], 6, 'ghi');
    expect(r.text).toBe('abc');
    expect(r.pieces).toEqual([{ offset: 6, text: 'ghi' }]);
    r = applyDelta(r.text, r.pieces, 3, 'def');
    expect(r).toEqual({ text: 'abcdefghi', pieces: [] });
  });

  it('lets the server win when a piece disagrees with what we have (a restarted answer)', () => {
    const r = applyDelta('Old answer that went on', [], 0, 'New');
    expect(r.text).toBe('New');
  });
});

describe('streaming an answer', () => {
  it('typing shows a placeholder; deltas fill it; the final message replaces it in place', () => {
    let s = run([f(session()), send('c-1', 'Where is my order?'), f(ack(2, 'c-1', 10)), f(typing(3))]);
    const placeholder = s.messages.at(-1)!;
    expect(placeholder).toMatchObject({ role: 'assistant', status: 'streaming', text: '', replyTo: 10 });
    expect(generatingReply(s)).toEqual({ key: placeholder.key, replyTo: 10 });
    s = run([f(delta(4, 10, 0, 'Your order ')), f(delta(5, 10, 11, 'has **shipped**'))], s);
    expect(s.messages).toHaveLength(2);
    expect(s.messages[1]).toMatchObject({ key: placeholder.key, text: 'Your order has **shipped**', status: 'streaming' });
    s = run([f(reply(6, 11, 10, 'Your order has **shipped** with UPS.', { finish_reason: 'completed' }))], s);
    expect(s.messages).toHaveLength(2);
    expect(s.messages[1]).toMatchObject({ key: placeholder.key, text: 'Your order has **shipped** with UPS.', status: 'done', messageId: 11 });
    expect(generatingReply(s)).toBeNull();
    expect(s.awaiting).toEqual([]);
    expect(s.lastSeq).toBe(6);
  });

  it('an answer that arrives while the page is open is fresh (revealed), a replayed one is not', () => {
    // Typing and the final message in one batch: the final one stays fresh.
    let s = run([f(session()), send('c-1', 'hi'), f(ack(2, 'c-1', 10)), f(typing(3, 10)), f(reply(4, 11, 10, 'Hello!'))]);
    expect(s.messages[1]).toMatchObject({ status: 'done', text: 'Hello!', fresh: true });
    // A delta without typing before it starts a fresh bubble too.
    s = run([send('c-2', 'more'), f(ack(5, 'c-2', 12)), f(delta(6, 12, 0, 'Mo'))], s);
    expect(s.messages.at(-1)).toMatchObject({ status: 'streaming', fresh: true });
    // A final message with no bubble before it (a replay after a resume) is shown as it is.
    const replayed = run([f(session()), f(ack(2, null, 10, 'hi')), f(reply(3, 11, 10, 'Hello!'))]);
    expect(replayed.messages[1]!.fresh).toBeUndefined();
  });

  it('a delta names the message it answers even when typing guessed another', () => {
    let s = run([f(session()), f(ack(2, null, 10, 'first')), f(ack(3, null, 12, 'second')), f(typing(4))]);
    expect(generatingReply(s)?.replyTo).toBe(10);
    s = run([f(delta(5, 12, 0, 'x'))], s);
    expect(generatingReply(s)?.replyTo).toBe(12);
  });

  it('a resent stream after a reconnect does not duplicate text', () => {
    let s = run([f(session()), send('c-1', 'q'), f(ack(2, 'c-1', 10)), f(typing(3)), f(delta(4, 10, 0, 'Hello wor'))]);
    s = run([{ type: 'unsent' }, f(session(0))], s);
    expect(s.messages[1]).toMatchObject({ text: 'Hello wor', status: 'streaming', stale: true });
    expect(generatingReply(s)).toBeNull();
    s = run([f(delta(9, 10, 0, 'Hello world, how'))], s);
    expect(s.messages).toHaveLength(2);
    expect(s.messages[1]).toMatchObject({ text: 'Hello world, how', stale: false });
  });

  it('a bubble still waiting for its first byte goes on a new socket', () => {
    let s = run([f(session()), send('c-1', 'q'), f(ack(2, 'c-1', 10)), f(typing(3))]);
    s = run([f(session(0))], s);
    expect(s.messages.map((m) => m.role)).toEqual(['user']);
  });

  it('internal_error removes the typing placeholder and shows the error', () => {
    const s = run([
      f(session()),
      send('c-1', 'q'),
      f(ack(2, 'c-1', 10)),
      f(typing(3)),
      f({ type: 'error', seq: 4, code: 'internal_error', message: 'could not answer' }),
    ]);
    expect(s.messages).toHaveLength(1);
    expect(s.error?.code).toBe('internal_error');
  });

  it('typing names the message it answers: that one is the one to stop, not the oldest awaited', () => {
    let s = run([f(session()), f(ack(2, null, 10, 'first')), f(ack(3, null, 12, 'second')), f(typing(4, 12))]);
    expect(generatingReply(s)?.replyTo).toBe(12);
    expect(s.messages.at(-1)).toMatchObject({ status: 'streaming', replyTo: 12 });
    expect(s.messages.at(-1)!.replyToGuessed).toBeUndefined();
    s = run([f(reply(5, 13, 12, 'answer'))], s);
    expect(s.messages.filter((m) => m.role === 'assistant')).toHaveLength(1);
  });

  it('typing after a reload (nothing awaited in memory) still knows its message', () => {
    // A stored conversation: the acks are in it, the in-memory queue is not.
    const stored = { ...run([f(session()), send('c-1', 'q'), f(ack(2, 'c-1', 10))]), awaiting: [], generating: null };
    const s = run([resumedSession(), f(typing(5, 10))], stored);
    expect(generatingReply(s)).toMatchObject({ replyTo: 10 });
  });

  it('after a resume the re-sent typing (fresh seq) keeps the half-streamed bubble; the catch-up delta adds nothing twice', () => {
    let s = run([f(session()), send('c-1', 'q'), f(ack(2, 'c-1', 10)), f(typing(3, 10)), f(delta(4, 10, 0, 'Hello wor'))]);
    const key = s.messages[1]!.key;
    s = run([{ type: 'unsent' }, resumedSession()], s);
    expect(generatingReply(s)).toBeNull();
    s = run([f(typing(7, 10))], s);
    expect(s.messages).toHaveLength(2);
    expect(s.messages[1]).toMatchObject({ key, text: 'Hello wor', status: 'streaming', stale: false });
    expect(generatingReply(s)).toEqual({ key, replyTo: 10 });
    s = run([f(delta(8, 10, 0, 'Hello world'))], s);
    expect(s.messages).toHaveLength(2);
    expect(s.messages[1]).toMatchObject({ key, text: 'Hello world' });
  });

  it('a typing for an answer that is final already shows nothing', () => {
    const s1 = run([f(session()), f(ack(2, null, 10, 'q')), f(reply(3, 11, 10, 'done'))]);
    const s2 = run([f(typing(4, 10))], s1);
    expect(s2.messages).toEqual(s1.messages);
    expect(generatingReply(s2)).toBeNull();
  });

  it('a cancel before the first delta: the empty final message takes the typing bubble’s place', () => {
    const s = run([f(session()), f(ack(2, null, 10, 'q')), f(typing(3, 10)), f(reply(4, 11, 10, '', { finish_reason: 'cancelled' }))]);
    expect(s.messages).toHaveLength(2);
    expect(s.messages[1]).toMatchObject({ status: 'done', text: '', finishReason: 'cancelled', messageId: 11, key: 'r-t3' });
    expect(generatingReply(s)).toBeNull();
  });

  it('internal_error naming a message removes only the bubble waiting for its answer', () => {
    let s = run([f(session()), send('c-1', 'one'), f(ack(2, 'c-1', 10)), send('c-2', 'two'), f(ack(3, 'c-2', 12)), f(typing(4, 10))]);
    s = run([f({ type: 'error', seq: 5, code: 'internal_error', message: 'could not answer', client_id: 'c-2' })], s);
    expect(s.messages.map((m) => m.status)).toEqual(['acked', 'acked', 'streaming']);
    expect(generatingReply(s)?.replyTo).toBe(10);
    expect(s.error).toEqual({ code: 'internal_error', message: 'could not answer', clientId: 'c-2' });
    s = run([f({ type: 'error', seq: 6, code: 'internal_error', message: 'could not answer', client_id: 'c-1' })], s);
    expect(s.messages.map((m) => m.status)).toEqual(['acked', 'acked']);
    expect(generatingReply(s)).toBeNull();
  });

  it('a cancelled answer is final with its reason', () => {
    const s = run([f(session()), f(ack(2, null, 10, 'q')), f(typing(3)), f(delta(4, 10, 0, 'Partial')), f(reply(5, 11, 10, 'Partial', { finish_reason: 'cancelled' }))]);
    expect(s.messages[1]).toMatchObject({ status: 'done', finishReason: 'cancelled', text: 'Partial' });
  });
});

describe('local sends and acks', () => {
  it('a message is pending, then sent, then acked, and matched by its client id', () => {
    let s = run([f(session()), send('c-1', 'hi')]);
    expect(s.messages[0]).toMatchObject({ status: 'pending', clientId: 'c-1' });
    expect(unsentMessages(s)).toEqual([{ clientId: 'c-1', text: 'hi' }]);
    s = run([{ type: 'sent', clientId: 'c-1' }], s);
    expect(s.messages[0]!.status).toBe('sent');
    s = run([{ type: 'unsent' }], s);
    expect(s.messages[0]!.status).toBe('pending');
    s = run([f(ack(2, 'c-1', 10))], s);
    expect(s.messages[0]).toMatchObject({ status: 'acked', messageId: 10, seq: 2 });
    expect(unsentMessages(s)).toEqual([]);
  });

  it('a re-sent ack (duplicate client id) changes nothing', () => {
    const s1 = run([f(session()), send('c-1', 'hi'), f(ack(2, 'c-1', 10))]);
    const s2 = run([f(ack(9, 'c-1', 10))], s1);
    expect(s2.messages).toEqual(s1.messages);
    expect(s2.awaiting).toEqual([10]);
  });

  it('a refused message is marked failed and leaves the outbox', () => {
    const s = run([f(session()), send('c-1', 'x'), { type: 'failed', clientId: 'c-1', code: 'message_too_long', message: 'too long' }]);
    expect(s.messages[0]).toMatchObject({ status: 'failed', error: 'too long' });
    expect(unsentMessages(s)).toEqual([]);
  });

  it('a delivery error naming its message lasts until that message is acknowledged', () => {
    let s = run([f(session()), send('c-1', 'x'), send('c-2', 'y')]);
    s = run([f({ type: 'error', seq: 2, code: 'rate_limited', message: 'slow', retry_after_ms: 100, client_id: 'c-2' })], s);
    expect(s.error).toEqual({ code: 'rate_limited', message: 'slow', clientId: 'c-2' });
    s = run([f(ack(3, 'c-1', 10))], s);
    expect(s.error?.code).toBe('rate_limited'); // another message got through: c-2 still waits
    s = run([f(ack(4, 'c-2', 11))], s);
    expect(s.error).toBeNull();
  });

  it('delivery errors without a client id are cleared by the next ack', () => {
    let s = run([f(session()), send('c-1', 'x'), f({ type: 'error', seq: 2, code: 'storage_unavailable', message: 'not saved' })]);
    expect(s.error?.code).toBe('storage_unavailable');
    s = run([f(ack(3, 'c-1', 10))], s);
    expect(s.error).toBeNull();
  });
});

describe('replays', () => {
  const conversation: TranscriptEvent[] = [
    f(session()),
    send('c-1', 'Hello'),
    f(ack(2, 'c-1', 10)),
    f(typing(3)),
    f(reply(4, 11, 10, 'Hi! How can I help?')),
    send('c-2', 'Order 124'),
    f(ack(5, 'c-2', 12)),
    f(typing(6)),
    f(reply(7, 13, 12, 'It has shipped.')),
  ];

  it('a full replay after resume (last_seq=0) doubles nothing', () => {
    const s1 = run(conversation);
    const s2 = run(
      [
        f(session(0)),
        f(ack(2, 'c-1', 10, 'Hello')),
        f(reply(4, 11, 10, 'Hi! How can I help?')),
        f(ack(5, 'c-2', 12, 'Order 124')),
        f(reply(7, 13, 12, 'It has shipped.')),
      ],
      s1,
    );
    expect(s2.messages.map((m) => [m.role, m.text, m.status])).toEqual(s1.messages.map((m) => [m.role, m.text, m.status]));
    expect(s2.messages).toHaveLength(4);
  });

  it('rebuilds a conversation from a replay alone, using the text of replayed acks', () => {
    const s = run([
      f(session(0)),
      f(ack(2, 'c-1', 10, 'Hello')),
      f(reply(4, 11, 10, 'Hi!')),
      f(ack(5, null, 12, 'sent without an id')),
      f(reply(7, 13, 12, 'Answer')),
    ]);
    expect(s.messages.map((m) => [m.role, m.text, m.status, m.messageId])).toEqual([
      ['user', 'Hello', 'acked', 10],
      ['assistant', 'Hi!', 'done', 11],
      ['user', 'sent without an id', 'acked', 12],
      ['assistant', 'Answer', 'done', 13],
    ]);
  });

  it('puts replayed messages missing from a local copy where their seq belongs', () => {
    // The local copy lacks the first exchange (trimmed) and has an unsent message.
    const local = run([f(session()), f(ack(5, 'c-2', 12, 'Order 124')), f(reply(7, 13, 12, 'It has shipped.')), send('c-3', 'unsent')]);
    const s = run([f(session(0)), f(ack(2, 'c-1', 10, 'Hello')), f(reply(4, 11, 10, 'Hi!')), f(ack(5, 'c-2', 12, 'Order 124')), f(reply(7, 13, 12, 'It has shipped.'))], local);
    expect(s.messages.map((m) => m.text)).toEqual(['Hello', 'Hi!', 'Order 124', 'It has shipped.', 'unsent']);
  });

  it('a live ack without text for a message sent elsewhere shows nothing', () => {
    const s = run([f(session()), f(ack(2, null, 10))]);
    expect(s.messages).toEqual([]);
  });

  it('merges another copy (another tab) by message id and client id', () => {
    const mine = run([f(session()), send('c-1', 'Hello'), f(ack(2, 'c-1', 10))]);
    const theirs = run([f(session()), send('c-1', 'Hello'), f(ack(2, 'c-1', 10)), f(reply(4, 11, 10, 'Hi!')), send('c-9', 'from the other tab')]);
    const s = reduce(mine, { type: 'merge', messages: theirs.messages, lastSeq: 4 });
    expect(s.messages.map((m) => m.text)).toEqual(['Hello', 'Hi!', 'from the other tab']);
    expect(s.lastSeq).toBe(4);
    expect(unsentMessages(s)).toEqual([{ clientId: 'c-9', text: 'from the other tab' }]);
  });
});

describe('human handoff', () => {
  const agentMsg = (seq: number, id: number, text: string, name = 'Dana', extra: Partial<Extract<ServerFrame, { type: 'message' }>> = {}): ServerFrame =>
    reply(seq, id, null, text, { role: 'agent', source: 'agent', agent_name: name, ...extra });
  const released = (seq: number, id: number, extra: Partial<Extract<ServerFrame, { type: 'message' }>> = {}): ServerFrame =>
    reply(seq, id, null, "You're back with the assistant.", { role: 'assistant', source: 'system', ...extra });
  const handingOff = (seq: number, id: number, replyTo: number, extra: Partial<Extract<ServerFrame, { type: 'message' }>> = {}): ServerFrame =>
    reply(seq, id, replyTo, "I'm connecting you with our support team.", { source: 'fallback', ...extra });

  it('the bot handing off (handoff:true) starts the handoff at once, before any agent writes', () => {
    let s = run([f(session()), f(ack(2, null, 1, 'I want a human')), f(typing(3)), f(handingOff(4, 2, 1, { handoff: true }))]);
    expect(s.handoff).toEqual({ active: true, agentName: null });
    // Messages to the team are not awaited from the bot.
    s = run([f(ack(5, null, 3, 'hello?'))], s);
    expect(s.awaiting).toEqual([]);
    s = run([f(agentMsg(6, 4, 'Hi, Dana here.'))], s);
    expect(s.handoff).toEqual({ active: true, agentName: 'Dana' });
    expect(s.messages.at(-1)).toMatchObject({ role: 'agent', agentName: 'Dana', status: 'done', text: 'Hi, Dana here.' });
    s = run([f(ack(7, null, 5, 'thanks')), f(released(8, 6, { handoff: false }))], s);
    expect(s.handoff).toEqual({ active: false, agentName: null });
    expect(s.messages.at(-1)).toMatchObject({ role: 'system' });
  });

  it('an agent who takes over from the bot (handoff:true on their message) is named at once', () => {
    const s = run([f(session()), f(agentMsg(2, 3, 'Hi, Sam from support.', 'Sam', { handoff: true }))]);
    expect(s.handoff).toEqual({ active: true, agentName: 'Sam' });
  });

  it('messages without the flag start and end nothing (live or replayed): the session status counts', () => {
    // A bot answer that merely mentions the team, and a stray agent message: no handoff.
    let s = run([f(session()), f(ack(2, null, 1, 'q')), f(handingOff(3, 2, 1)), f(agentMsg(4, 3, 'old message'))]);
    expect(s.handoff.active).toBe(false);
    // While a human has the session, a notice without the flag does not end it.
    s = run([resumedSession('handoff'), f(released(5, 4))], s);
    expect(s.handoff).toEqual({ active: true, agentName: null });
  });

  it('after a resume the session status says whether a human has the conversation; replayed agent messages name them', () => {
    const s = run([resumedSession('handoff'), f(ack(2, null, 1, 'human please')), f(handingOff(3, 2, 1)), f(agentMsg(4, 3, 'Dana here')), f(agentMsg(5, 4, 'Still here'))]);
    expect(s.handoff).toEqual({ active: true, agentName: 'Dana' });
    const before = run([f(session()), f(ack(2, null, 1, 'human please')), f(handingOff(3, 2, 1, { handoff: true }))]);
    expect(before.handoff.active).toBe(true);
    // Released while the page was away: the replayed notice has no flag, the status says it.
    const after = run([resumedSession('active'), f(released(9, 5))], before);
    expect(after.handoff).toEqual({ active: false, agentName: null });
  });

  it('a replayed release forgets the agent of an earlier handoff', () => {
    const s = run([
      resumedSession('handoff'),
      f(ack(2, null, 1, 'human please')),
      f(handingOff(3, 2, 1)),
      f(agentMsg(4, 3, 'Dana here')),
      f(released(5, 4)),
      f(ack(6, null, 5, 'a person again please')),
      f(handingOff(7, 6, 5)),
    ]);
    expect(s.handoff).toEqual({ active: true, agentName: null });
  });

  it('messages to the agent are not awaited by the bot: the next typing answers the next message', () => {
    let s = run([f(session()), f(agentMsg(2, 3, 'Hi', 'Dana', { handoff: true }))]);
    s = run([f(ack(3, null, 4, 'for the agent')), f(released(4, 5, { handoff: false })), f(ack(5, null, 6, 'for the bot')), f(typing(6))], s);
    expect(generatingReply(s)?.replyTo).toBe(6);
  });

  it('a system notice without a handoff is just a notice', () => {
    const s = run([f(session()), f(released(2, 5))]);
    expect(s.handoff.active).toBe(false);
    expect(s.messages[0]).toMatchObject({ role: 'system' });
  });
});

function resumedSession(status?: 'active' | 'handoff'): TranscriptEvent {
  const frame: ServerFrame = { type: 'session', seq: 0, session_id: 7, resume_token: 'tok', resumed: true };
  if (status) frame.status = status;
  return f(frame);
}
