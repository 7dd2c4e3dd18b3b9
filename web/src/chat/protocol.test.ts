import { describe, expect, it } from 'vitest';
import { encodeClientFrame, parseServerFrame, socketUrl, utf8Length } from './protocol';

const parse = (v: unknown) => parseServerFrame(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseServerFrame', () => {
  it('reads every frame of docs/protocol.md', () => {
    expect(parse({ type: 'session', seq: 1, session_id: 5, resume_token: 'abc', resumed: false })).toEqual({
      type: 'session', seq: 1, session_id: 5, resume_token: 'abc', resumed: false,
    });
    expect(parse({ type: 'ack', seq: 2, id: 'c-1', message_id: 9 })).toEqual({ type: 'ack', seq: 2, id: 'c-1', message_id: 9 });
    expect(parse({ type: 'ack', seq: 2, id: null, message_id: 9, text: 'replayed' })).toEqual({
      type: 'ack', seq: 2, id: null, message_id: 9, text: 'replayed',
    });
    expect(parse({ type: 'typing', seq: 3 })).toEqual({ type: 'typing', seq: 3 });
    expect(parse({ type: 'delta', seq: 4, reply_to: 9, offset: 0, text: 'Hi' })).toMatchObject({ type: 'delta', offset: 0 });
    expect(
      parse({ type: 'message', seq: 5, id: 10, reply_to: 9, role: 'assistant', text: 'Hi', source: 'llm', tokens_used: 3, response_time: 0.2, finish_reason: 'completed', created_at: '2026-01-01T00:00:00.000000Z' }),
    ).toMatchObject({ type: 'message', id: 10, reply_to: 9, finish_reason: 'completed' });
    expect(parse({ type: 'message', seq: 6, id: 11, reply_to: null, role: 'agent', text: 'Dana here', source: 'agent', agent_name: 'Dana' })).toMatchObject({
      reply_to: null, agent_name: 'Dana',
    });
    expect(parse({ type: 'pong', seq: 7 })).toEqual({ type: 'pong', seq: 7 });
    expect(parse({ type: 'error', seq: 12, code: 'rate_limited', message: 'slow', retry_after_ms: 840, client_id: 'c-17' })).toEqual({
      type: 'error', seq: 12, code: 'rate_limited', message: 'slow', retry_after_ms: 840, client_id: 'c-17',
    });
  });

  it('reads the fields that say who answers and what is answered', () => {
    expect(parse({ type: 'session', seq: 1, session_id: 5, resume_token: 'abc', resumed: false, status: 'active' })).toEqual({
      type: 'session', seq: 1, session_id: 5, resume_token: 'abc', resumed: false, status: 'active',
    });
    expect(parse({ type: 'session', seq: 0, session_id: 5, resume_token: 'abc', resumed: true, status: 'handoff' })).toMatchObject({ status: 'handoff' });
    // A status this client does not know: the bot answers. None at all: not said.
    expect(parse({ type: 'session', seq: 0, session_id: 5, resume_token: 'abc', resumed: true, status: 'paused' })).toMatchObject({ status: 'active' });
    expect(parse({ type: 'session', seq: 0, session_id: 5, resume_token: 'abc', resumed: true })).not.toHaveProperty('status');
    expect(parse({ type: 'typing', seq: 3, reply_to: 9 })).toEqual({ type: 'typing', seq: 3, reply_to: 9 });
    expect(parse({ type: 'typing', seq: 3, reply_to: 0 })).toEqual({ type: 'typing', seq: 3 });
    expect(parse({ type: 'typing', seq: 3, reply_to: '9' })).toEqual({ type: 'typing', seq: 3 });
    const msg = { type: 'message', seq: 5, id: 10, reply_to: 9, role: 'assistant', text: 'Connecting you', source: 'fallback' };
    expect(parse({ ...msg, handoff: true })).toMatchObject({ handoff: true });
    expect(parse({ ...msg, handoff: false })).toMatchObject({ handoff: false });
    expect(parse({ ...msg, handoff: 'yes' })).not.toHaveProperty('handoff');
    expect(parse(msg)).not.toHaveProperty('handoff');
    expect(parse({ type: 'error', seq: 9, code: 'storage_unavailable', message: 'not saved', client_id: 'c-16' })).toMatchObject({ client_id: 'c-16' });
    expect(parse({ type: 'error', seq: 9, code: 'empty_message', message: 'empty', client_id: 42 })).toMatchObject({ client_id: '42' });
  });

  it('ignores what it does not understand', () => {
    for (const bad of [
      'not json',
      '[1,2]',
      'null',
      '"text"',
      { seq: 1 },
      { type: 'future_frame', seq: 1 },
      { type: 'typing' }, // no seq
      { type: 'typing', seq: -1 },
      { type: 'typing', seq: 1.5 },
      { type: 'session', seq: 1, session_id: '5', resume_token: 'x' },
      { type: 'session', seq: 1, session_id: 5, resume_token: '' },
      { type: 'ack', seq: 1, id: 'c', message_id: 0 },
      { type: 'ack', seq: 1, id: {}, message_id: 3 },
      { type: 'delta', seq: 1, reply_to: 3, offset: -1, text: 'x' },
      { type: 'delta', seq: 1, reply_to: 3, offset: 0 },
      { type: 'message', seq: 1, id: 3 },
      { type: 'error', seq: 0 },
    ])
      expect(parse(bad), JSON.stringify(bad)).toBeNull();
    expect(parseServerFrame(new ArrayBuffer(2))).toBeNull();
  });

  it('keeps optional fields only when they have the right type', () => {
    const m = parse({ type: 'message', seq: 1, id: 3, text: 'x', reply_to: 'nope', agent_name: 5, finish_reason: null });
    expect(m).toEqual({ type: 'message', seq: 1, id: 3, reply_to: null, role: 'assistant', text: 'x', source: '' });
    expect(parse({ type: 'ack', seq: 1, id: 42, message_id: 3 })).toMatchObject({ id: '42' });
  });
});

describe('socketUrl', () => {
  it('uses the page host, wss on https, and encodes the resume parameters', () => {
    expect(socketUrl({ protocol: 'http:', host: 'localhost:3001' }, null)).toBe('ws://localhost:3001/ws');
    expect(socketUrl({ protocol: 'https:', host: 'chat.example' }, { sessionId: 7, resumeToken: 'a+b/c=', lastSeq: 12 })).toBe(
      'wss://chat.example/ws?session_id=7&resume_token=a%2Bb%2Fc%3D&last_seq=12',
    );
  });
});

describe('client frames', () => {
  it('writes message, cancel and ping as the server expects', () => {
    expect(JSON.parse(encodeClientFrame({ type: 'message', text: 'hi', id: 'c-1' }))).toEqual({ type: 'message', text: 'hi', id: 'c-1' });
    expect(encodeClientFrame({ type: 'cancel', reply_to: 17 })).toBe('{"type":"cancel","reply_to":17}');
    expect(encodeClientFrame({ type: 'ping' })).toBe('{"type":"ping"}');
  });

  it('counts UTF-8 bytes like the server', () => {
    expect(utf8Length('abc')).toBe(3);
    expect(utf8Length('é')).toBe(2);
    expect(utf8Length('€')).toBe(3);
    expect(utf8Length('👋')).toBe(4);
  });
});
