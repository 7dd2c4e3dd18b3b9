import { describe, expect, it, vi } from 'vitest';
import { greet, harness } from '../../test/fakes';
import { backoffDelay, type ConnState } from './connection';

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, with jitter between half and all of it', () => {
    expect(backoffDelay(0, 500, 15000, () => 1)).toBe(500);
    expect(backoffDelay(0, 500, 15000, () => 0)).toBe(250);
    expect(backoffDelay(3, 500, 15000, () => 1)).toBe(4000);
    expect(backoffDelay(10, 500, 15000, () => 1)).toBe(15000);
    expect(backoffDelay(10, 500, 15000, () => 0)).toBe(7500);
    expect(backoffDelay(1000, 500, 15000, () => 0.5)).toBe(11250);
  });
});

describe('connecting and resuming', () => {
  it('connects without session parameters, then resumes with id, token and the highest seq', () => {
    const h = harness();
    const states: ConnState[] = [];
    h.connection.setEvents({ onState: (s) => states.push(s) });
    h.connection.start(null);
    const first = h.last();
    expect(first.url).toBe('ws://chat.test/ws');
    expect(states).toEqual(['connecting']);
    greet(first, 42, 'secret', 1);
    expect(states.at(-1)).toBe('connected');
    first.receive({ type: 'ack', seq: 2, id: 'c-1', message_id: 10 });
    first.receive({ type: 'typing', seq: 3 });
    first.receive({ type: 'message', seq: 5, id: 11, reply_to: 10, role: 'assistant', text: 'hi', source: 'fallback' });
    first.receive({ type: 'pong', seq: 0 });
    first.serverClose(1006);
    expect(states.at(-1)).toBe('reconnecting');
    h.clock.advance(h.clock.nextDelay()!);
    const second = h.last();
    expect(second).not.toBe(first);
    const p = second.params();
    expect(p.get('session_id')).toBe('42');
    expect(p.get('resume_token')).toBe('secret');
    expect(p.get('last_seq')).toBe('5');
    expect(h.connection.snapshot()).toMatchObject({ sessionId: 42, lastSeq: 5 });
  });

  it('resumes a stored session with its last_seq', () => {
    const h = harness();
    h.connection.start({ sessionId: 3, resumeToken: 't', lastSeq: 17 });
    expect(h.last().params().get('last_seq')).toBe('17');
    expect(h.last().params().get('session_id')).toBe('3');
  });

  it('drops frames whose seq it has seen (replay overlap), but never seq 0', () => {
    const h = harness();
    const seen: string[] = [];
    h.connection.setEvents({ onFrame: (f) => seen.push(`${f.type}:${f.seq}`) });
    h.connection.start({ sessionId: 3, resumeToken: 't', lastSeq: 4 });
    const s = h.last();
    greet(s, 3, 't', 0);
    s.receive({ type: 'ack', seq: 3, id: 'c-1', message_id: 1 }); // before last_seq
    s.receive({ type: 'ack', seq: 4, id: 'c-2', message_id: 2 }); // equal
    s.receive({ type: 'ack', seq: 5, id: 'c-3', message_id: 3 });
    s.receive({ type: 'ack', seq: 5, id: 'c-3', message_id: 3 }); // again
    s.receive({ type: 'pong', seq: 0 });
    s.receive({ type: 'pong', seq: 0 });
    s.receive('not json');
    s.receive({ type: 'surprise', seq: 9 });
    expect(seen).toEqual(['session:0', 'ack:5', 'pong:0', 'pong:0']);
  });

  it('backs off exponentially while attempts fail and starts over after a good connection', () => {
    const h = harness({}, () => 1); // jitter at its maximum: delays are exact powers
    h.connection.start(null);
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      h.last().serverClose(1006);
      const d = h.clock.nextDelay()!;
      delays.push(d);
      h.clock.advance(d);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000]);
    greet(h.last());
    h.last().serverClose(1006);
    expect(h.clock.nextDelay()).toBe(500);
  });

  it('reports offline after many failures in a row, and keeps trying', () => {
    const h = harness({ offlineAfterFailures: 3 });
    const states: ConnState[] = [];
    h.connection.setEvents({ onState: (s) => states.push(s) });
    h.connection.start(null);
    for (let i = 0; i < 3; i++) {
      h.last().serverClose(1006);
      h.clock.advance(h.clock.nextDelay()!);
    }
    expect(h.connection.connectionState).toBe('offline');
    expect(h.sockets).toHaveLength(4);
    greet(h.last());
    expect(states.at(-1)).toBe('connected');
  });

  it('gives up on a socket that never greets and tries again', () => {
    const h = harness({ handshakeTimeoutMs: 10_000 });
    h.connection.start(null);
    const s = h.last();
    h.clock.advance(10_000);
    expect(s.closed).not.toBeNull();
    expect(h.connection.connectionState).toBe('connecting');
    h.clock.advance(h.clock.nextDelay()!);
    expect(h.sockets).toHaveLength(2);
  });

  it('waits for the network when the browser is offline, and connects when it is back', () => {
    const h = harness();
    h.online.value = false;
    h.connection.setOnline(false);
    h.connection.start(null);
    expect(h.sockets).toHaveLength(0);
    expect(h.connection.connectionState).toBe('offline');
    expect(h.connection.stateDetail.reason).toBe('network');
    h.clock.advance(14_999);
    expect(h.sockets).toHaveLength(0);
    h.online.value = true;
    h.connection.setOnline(true);
    expect(h.sockets).toHaveLength(1);
    expect(h.connection.connectionState).toBe('connecting');
  });

  it('probes now and then while "offline", since navigator.onLine can be wrong', () => {
    const h = harness();
    h.online.value = false;
    h.connection.setOnline(false);
    h.connection.start(null);
    h.clock.advance(15_000);
    expect(h.sockets).toHaveLength(1);
    expect(h.connection.connectionState).toBe('offline');
    h.last().serverClose(1006);
    h.clock.advance(15_000);
    expect(h.sockets).toHaveLength(2);
    greet(h.last());
    expect(h.connection.connectionState).toBe('connected');
  });
});

describe('close codes', () => {
  it('1008 (resume refused): forgets the session, starts a new one at once, keeps the outbox', () => {
    const h = harness();
    const refused = vi.fn();
    h.connection.setEvents({ onInvalidResume: refused });
    h.connection.start({ sessionId: 9, resumeToken: 'old', lastSeq: 30 }, [{ clientId: 'c-a-1', text: 'still here?' }]);
    const s = h.last();
    s.receive({ type: 'error', seq: 0, code: 'invalid_resume', message: 'unknown session or wrong resume token' });
    s.serverClose(1008);
    expect(refused).toHaveBeenCalledWith({ sessionId: 9, resumeToken: 'old', lastSeq: 30 });
    expect(h.sockets).toHaveLength(2);
    const fresh = h.last();
    expect(fresh.url).toBe('ws://chat.test/ws'); // no session_id: a new session
    greet(fresh, 10, 'new', 1);
    expect(fresh.messages()).toEqual([{ type: 'message', text: 'still here?', id: 'c-a-1' }]);
    fresh.serverClose(1006);
    h.clock.advance(h.clock.nextDelay()!);
    expect(h.last().params().get('session_id')).toBe('10');
  });

  it('4000 (replaced by another tab): no reconnect loop until started again', () => {
    const h = harness();
    const replaced = vi.fn();
    h.connection.setEvents({ onReplaced: replaced });
    h.connection.start({ sessionId: 9, resumeToken: 't', lastSeq: 2 });
    greet(h.last(), 9, 't', 0);
    h.last().serverClose(4000);
    expect(replaced).toHaveBeenCalledTimes(1);
    expect(h.connection.connectionState).toBe('offline');
    expect(h.connection.stateDetail.reason).toBe('replaced');
    h.clock.advance(10 * 60_000);
    h.connection.retryNow();
    h.connection.setOnline(false);
    h.connection.setOnline(true);
    expect(h.sockets).toHaveLength(1);
    h.connection.start({ sessionId: 9, resumeToken: 't', lastSeq: 2 });
    expect(h.sockets).toHaveLength(2);
    expect(h.last().params().get('session_id')).toBe('9');
  });

  it('1013 (server busy) backs off longer than a plain drop', () => {
    const h = harness({}, () => 1);
    h.connection.start(null);
    h.last().receive({ type: 'error', seq: 0, code: 'server_busy', message: 'too many connections' });
    h.last().serverClose(1013);
    expect(h.clock.nextDelay()).toBe(5000);
    expect(h.connection.stateDetail.reason).toBe('busy');
    h.clock.advance(5000);
    h.last().serverClose(1013);
    expect(h.clock.nextDelay()).toBe(10000);
  });

  it('1001 (server restarting) reconnects and resumes', () => {
    const h = harness();
    h.connection.start(null);
    greet(h.last(), 5, 'tk', 1);
    h.last().serverClose(1001);
    expect(h.connection.connectionState).toBe('reconnecting');
    h.clock.advance(h.clock.nextDelay()!);
    expect(h.sockets).toHaveLength(2);
    expect(h.last().params().get('session_id')).toBe('5');
  });

  it('stop() closes and stays closed', () => {
    const h = harness();
    h.connection.start(null);
    greet(h.last());
    h.connection.stop();
    expect(h.sockets[0]!.closed?.code).toBe(1000);
    h.clock.advance(60_000);
    expect(h.sockets).toHaveLength(1);
  });
});

describe('the outbox', () => {
  it('queues messages before the session frame and sends each once, in order, with its id', () => {
    const h = harness();
    const sent: string[] = [];
    h.connection.setEvents({ onSent: (id) => sent.push(id) });
    h.connection.start(null);
    h.connection.send({ clientId: 'c-x-1', text: 'one' });
    h.connection.send({ clientId: 'c-x-2', text: 'two' });
    h.connection.send({ clientId: 'c-x-2', text: 'two' }); // same id twice: one message
    const s = h.last();
    expect(s.sent).toEqual([]);
    greet(s);
    expect(s.messages()).toEqual([
      { type: 'message', text: 'one', id: 'c-x-1' },
      { type: 'message', text: 'two', id: 'c-x-2' },
    ]);
    expect(sent).toEqual(['c-x-1', 'c-x-2']);
  });

  it('holds messages while offline and sends them once after reconnecting, same ids', () => {
    const h = harness();
    h.connection.start(null);
    greet(h.last(), 7, 't', 1);
    h.online.value = false;
    h.connection.setOnline(false);
    h.last().serverClose(1006);
    expect(h.connection.connectionState).toBe('offline');
    h.connection.send({ clientId: 'c-y-1', text: 'while offline' });
    h.clock.advance(10_000);
    expect(h.sockets).toHaveLength(1);
    h.online.value = true;
    h.connection.setOnline(true);
    const s = h.last();
    expect(h.sockets).toHaveLength(2);
    greet(s, 7, 't', 0);
    expect(s.messages()).toEqual([{ type: 'message', text: 'while offline', id: 'c-y-1' }]);
    s.receive({ type: 'ack', seq: 2, id: 'c-y-1', message_id: 1 });
    s.serverClose(1006);
    h.clock.advance(h.clock.nextDelay()!);
    greet(h.last(), 7, 't', 0);
    expect(h.last().messages()).toEqual([]); // acked: never again
  });

  it('re-sends what was not acknowledged on the next socket, with the same id', () => {
    const h = harness();
    const unsent = vi.fn();
    h.connection.setEvents({ onUnsent: unsent });
    h.connection.start(null);
    greet(h.last(), 7, 't', 1);
    h.connection.send({ clientId: 'c-z-1', text: 'acked' });
    h.connection.send({ clientId: 'c-z-2', text: 'lost' });
    h.last().receive({ type: 'ack', seq: 2, id: 'c-z-1', message_id: 1 });
    h.last().serverClose(1006);
    expect(unsent).toHaveBeenCalled();
    expect(h.connection.pending()).toEqual(['c-z-2']);
    h.clock.advance(h.clock.nextDelay()!);
    greet(h.last(), 7, 't', 0);
    expect(h.last().messages()).toEqual([{ type: 'message', text: 'lost', id: 'c-z-2' }]);
  });

  it('rate_limited: sends that message again after retry_after_ms, not before', () => {
    const h = harness();
    h.connection.start(null);
    greet(h.last());
    const s = h.last();
    h.connection.send({ clientId: 'c-r-1', text: 'fast' });
    s.receive({ type: 'error', seq: 2, code: 'rate_limited', message: 'slow down', retry_after_ms: 840, client_id: 'c-r-1' });
    h.connection.send({ clientId: 'c-r-2', text: 'after it' });
    expect(s.messages().map((m) => m.id)).toEqual(['c-r-1']); // the next one waits its turn
    h.clock.advance(839);
    expect(s.messages()).toHaveLength(1);
    h.clock.advance(1);
    expect(s.messages().map((m) => m.id)).toEqual(['c-r-1', 'c-r-1', 'c-r-2']);
  });

  it('too_many_pending works the same way', () => {
    const h = harness();
    h.connection.start(null);
    greet(h.last());
    h.connection.send({ clientId: 'c-p-1', text: 'x' });
    h.last().receive({ type: 'error', seq: 2, code: 'too_many_pending', message: 'wait', retry_after_ms: 2000, client_id: 'c-p-1' });
    h.clock.advance(1999);
    expect(h.last().messages()).toHaveLength(1);
    h.clock.advance(1);
    expect(h.last().messages()).toHaveLength(2);
  });

  it('storage_unavailable: retries everything unacknowledged with growing delays', () => {
    const h = harness({}, () => 1);
    h.connection.start(null);
    greet(h.last());
    const s = h.last();
    h.connection.send({ clientId: 'c-s-1', text: 'keep me' });
    s.receive({ type: 'error', seq: 2, code: 'storage_unavailable', message: 'could not be saved' });
    h.clock.advance(999);
    expect(s.messages()).toHaveLength(1);
    h.clock.advance(1);
    expect(s.messages()).toHaveLength(2);
    s.receive({ type: 'error', seq: 3, code: 'storage_unavailable', message: 'could not be saved' });
    h.clock.advance(1999);
    expect(s.messages()).toHaveLength(2);
    h.clock.advance(1);
    expect(s.messages()).toHaveLength(3);
    s.receive({ type: 'ack', seq: 4, id: 'c-s-1', message_id: 3 });
    expect(h.connection.pending()).toEqual([]);
  });

  it('a message refused for good (message_too_long) leaves the outbox and is reported', () => {
    const h = harness();
    const failed = vi.fn();
    h.connection.setEvents({ onFailed: failed });
    h.connection.start(null);
    greet(h.last());
    h.connection.send({ clientId: 'c-l-1', text: 'long' });
    h.last().receive({ type: 'error', seq: 2, code: 'message_too_long', message: 'too long' });
    expect(failed).toHaveBeenCalledWith('c-l-1', 'message_too_long', 'too long');
    h.last().serverClose(1006);
    h.clock.advance(h.clock.nextDelay()!);
    greet(h.last(), 7, 'tok', 0);
    expect(h.last().messages()).toEqual([]);
  });

  it('a refusal that names its message (client_id) fails that one, not the oldest in flight', () => {
    const h = harness();
    const failed = vi.fn();
    h.connection.setEvents({ onFailed: failed });
    h.connection.start(null);
    greet(h.last());
    h.connection.send({ clientId: 'c-n-1', text: 'fine' });
    h.connection.send({ clientId: 'c-n-2', text: 'refused' });
    h.last().receive({ type: 'error', seq: 2, code: 'message_too_long', message: 'too long', client_id: 'c-n-2' });
    expect(failed).toHaveBeenCalledWith('c-n-2', 'message_too_long', 'too long');
    expect(h.connection.pending()).toEqual(['c-n-1']);
    // An error about a message that is not ours (or is done) fails nothing.
    h.last().receive({ type: 'error', seq: 3, code: 'empty_message', message: 'empty', client_id: 'c-other-9' });
    expect(failed).toHaveBeenCalledTimes(1);
    expect(h.connection.pending()).toEqual(['c-n-1']);
  });

  it('storage_unavailable naming a message sends only that one again, after the pause', () => {
    const h = harness({}, () => 1);
    h.connection.start(null);
    greet(h.last());
    const s = h.last();
    h.connection.send({ clientId: 'c-t-1', text: 'stored' });
    h.connection.send({ clientId: 'c-t-2', text: 'not stored' });
    s.receive({ type: 'error', seq: 2, code: 'storage_unavailable', message: 'could not be saved', client_id: 'c-t-2' });
    h.clock.advance(999);
    expect(s.messages().map((m) => m.id)).toEqual(['c-t-1', 'c-t-2']);
    h.clock.advance(1);
    expect(s.messages().map((m) => m.id)).toEqual(['c-t-1', 'c-t-2', 'c-t-2']);
  });

  it('rate_limited naming a message holds only that one', () => {
    const h = harness();
    h.connection.start(null);
    greet(h.last());
    const s = h.last();
    h.connection.send({ clientId: 'c-u-1', text: 'first' });
    h.connection.send({ clientId: 'c-u-2', text: 'second' });
    s.receive({ type: 'error', seq: 2, code: 'rate_limited', message: 'slow down', retry_after_ms: 500, client_id: 'c-u-2' });
    h.clock.advance(500);
    // c-u-1 is still on the wire (its ack is coming): only c-u-2 goes again.
    expect(s.messages().map((m) => m.id)).toEqual(['c-u-1', 'c-u-2', 'c-u-2']);
  });

  it('cancel names the message being answered', () => {
    const h = harness();
    h.connection.start(null);
    expect(h.connection.cancel(10)).toBe(false); // no session yet
    greet(h.last());
    expect(h.connection.cancel(10)).toBe(true);
    expect(h.last().frames().at(-1)).toEqual({ type: 'cancel', reply_to: 10 });
  });
});

describe('keep-alive', () => {
  it('pings after 25 s without a frame and reconnects when nothing answers in 10 s', () => {
    const h = harness();
    h.connection.start(null);
    const s = h.last();
    greet(s);
    h.clock.advance(24_999);
    expect(s.frames()).toEqual([]);
    h.clock.advance(1);
    expect(s.frames()).toEqual([{ type: 'ping' }]);
    h.clock.advance(9_999);
    expect(s.closed).toBeNull();
    h.clock.advance(1);
    expect(s.closed).not.toBeNull();
    expect(h.connection.connectionState).toBe('reconnecting');
    h.clock.advance(h.clock.nextDelay()!);
    expect(h.sockets).toHaveLength(2);
  });

  it('a pong (or any frame) keeps the socket; a busy socket is not pinged', () => {
    const h = harness();
    h.connection.start(null);
    const s = h.last();
    greet(s);
    h.clock.advance(25_000);
    s.receive({ type: 'pong', seq: 2 });
    h.clock.advance(20_000);
    s.receive({ type: 'typing', seq: 3 });
    h.clock.advance(20_000);
    expect(s.closed).toBeNull();
    expect(s.frames()).toEqual([{ type: 'ping' }]);
    h.clock.advance(5_000);
    expect(s.frames()).toEqual([{ type: 'ping' }, { type: 'ping' }]);
  });
});
