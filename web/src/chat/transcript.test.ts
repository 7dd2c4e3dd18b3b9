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
const typing = (seq: number): ServerFrame => ({ type: 'typing', seq });
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

  it('delivery errors are cleared by the next ack', () => {
    let s = run([f(session()), send('c-1', 'x'), f({ type: 'error', seq: 2, code: 'rate_limited', message: 'slow', retry_after_ms: 100, client_id: 'c-1' })]);
    expect(s.error?.code).toBe('rate_limited');
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
  const agentMsg = (seq: number, id: number, text: string, name = 'Dana'): ServerFrame =>
    reply(seq, id, null, text, { role: 'agent', source: 'agent', agent_name: name });
  const released = (seq: number, id: number): ServerFrame =>
    reply(seq, id, null, "You're back with the assistant.", { role: 'assistant', source: 'system' });

  it('an agent message shows the banner with the name; a system notice after it removes it', () => {
    let s = run([f(session()), f(ack(2, null, 1, 'I want a human')), f(reply(3, 2, 1, "I'm connecting you…", { source: 'fallback' }))]);
    expect(s.handoff.active).toBe(false);
    s = run([f(agentMsg(4, 3, 'Hi, Dana here.'))], s);
    expect(s.handoff).toEqual({ active: true, agentName: 'Dana' });
    expect(s.messages.at(-1)).toMatchObject({ role: 'agent', agentName: 'Dana', status: 'done', text: 'Hi, Dana here.' });
    s = run([f(ack(5, null, 4, 'thanks')), f(released(6, 5))], s);
    expect(s.handoff).toEqual({ active: false, agentName: null });
    expect(s.messages.at(-1)).toMatchObject({ role: 'system' });
  });

  it('messages to the agent are not awaited by the bot: the next typing answers the next message', () => {
    let s = run([f(session()), f(agentMsg(2, 3, 'Hi'))]);
    s = run([f(ack(3, null, 4, 'for the agent')), f(released(4, 5)), f(ack(5, null, 6, 'for the bot')), f(typing(6))], s);
    expect(generatingReply(s)?.replyTo).toBe(6);
  });

  it('a system notice without a handoff is just a notice', () => {
    const s = run([f(session()), f(released(2, 5))]);
    expect(s.handoff.active).toBe(false);
    expect(s.messages[0]).toMatchObject({ role: 'system' });
  });

  it('the banner state survives a replay', () => {
    const s = run([f(session(0)), f(ack(2, null, 1, 'human please')), f(agentMsg(3, 2, 'Dana here')), f(agentMsg(4, 3, 'Still here'))]);
    expect(s.handoff).toEqual({ active: true, agentName: 'Dana' });
  });
});
