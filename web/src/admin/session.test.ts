import { describe, expect, it } from 'vitest';
import { ApiClient } from './api';
import { fetchRecentSessions } from './sessions';
import { SessionController } from './session';
import { summarizeHandoff, waitingMs } from './queue';
import { CONSOLE_START, FakeParley, makeMessage, settle } from '../../test/console-fakes';
import { FakeClock } from '../../test/fakes';

function setup() {
  const timers = new FakeClock(CONSOLE_START);
  const server = new FakeParley(timers.now);
  const api = new ApiClient({ fetch: server.fetch, token: () => server.token });
  return { timers, server, api };
}

describe('SessionController', () => {
  it('loads the transcript, then polls with after_id for what is new', async () => {
    const { timers, server, api } = setup();
    const s = server.addSession('handoff');
    server.addMessage(s.id, 'user', 'hi');
    server.addMessage(s.id, 'assistant', 'hello');
    const c = new SessionController(api, s.id, timers, 1500);
    c.start();
    await settle();
    expect(c.state.loading).toBe(false);
    expect(c.state.session?.status).toBe('handoff');
    expect(c.state.messages.map((m) => m.message)).toEqual(['hi', 'hello']);

    server.addMessage(s.id, 'user', 'anyone?');
    timers.advance(1500);
    await settle();
    const poll = server.requests.filter((r) => r.path === '/api/messages').at(-1)!;
    expect(poll.query.get('session_id')).toBe(String(s.id));
    expect(poll.query.get('after_id')).toBe('2');
    expect(poll.query.get('limit')).toBe('100');
    expect(c.state.messages.map((m) => m.message)).toEqual(['hi', 'hello', 'anyone?']);

    timers.advance(1500);
    await settle();
    expect(server.requests.filter((r) => r.path === '/api/messages').at(-1)!.query.get('after_id')).toBe('3');
    expect(c.state.messages).toHaveLength(3);
    c.stop();
    expect(timers.pending()).toEqual([]);
  });

  it('reads a burst larger than a page in one poll', async () => {
    const { timers, server, api } = setup();
    const s = server.addSession('active');
    const c = new SessionController(api, s.id, timers);
    c.start();
    await settle();
    for (let i = 0; i < 230; i++) server.addMessage(s.id, 'user', `m${i}`);
    timers.advance(1500);
    await settle(12);
    expect(c.state.messages).toHaveLength(230);
    expect(new Set(c.state.messages.map((m) => m.id)).size).toBe(230);
    c.stop();
  });

  it('shows the agent’s reply once, though the poll brings it again', async () => {
    const { timers, server, api } = setup();
    const s = server.addSession('handoff');
    server.addMessage(s.id, 'user', 'help');
    const c = new SessionController(api, s.id, timers);
    c.start();
    await settle();
    expect(await c.send('On it', 'Dana')).toBe(true);
    expect(c.state.messages.map((m) => [m.role, m.message])).toEqual([
      ['user', 'help'],
      ['agent', 'On it'],
    ]);
    timers.advance(1500);
    await settle();
    expect(c.state.messages.filter((m) => m.message === 'On it')).toHaveLength(1);
    expect(server.requests.find((r) => r.path.endsWith('/agent-message'))!.body).toEqual({ text: 'On it', agent_name: 'Dana' });
    c.stop();
  });

  it('hands an active session to the human on the first reply', async () => {
    const { server, api, timers } = setup();
    const s = server.addSession('active');
    const c = new SessionController(api, s.id, timers);
    c.start();
    await settle();
    await c.send('Hi, this is Dana', '');
    expect(c.state.session?.status).toBe('handoff');
    c.stop();
  });

  it('keeps the text and says why when a reply fails', async () => {
    const { server, api, timers } = setup();
    const s = server.addSession('handoff');
    const c = new SessionController(api, s.id, timers);
    c.start();
    await settle();
    server.offline = 1;
    expect(await c.send('hello', 'Dana')).toBe(false);
    expect(c.state.actionError).toMatch(/Not sent: Cannot reach the server/);
    expect(c.state.sending).toBe(false);
    expect(await c.send('   ', 'Dana')).toBe(false);
    c.stop();
  });

  it('releases, and explains a 409', async () => {
    const { server, api, timers } = setup();
    const s = server.addSession('handoff');
    const c = new SessionController(api, s.id, timers);
    c.start();
    await settle();
    await c.release();
    expect(c.state.session?.status).toBe('active');
    expect(c.state.messages.at(-1)?.source).toBe('system');
    expect(c.state.actionError).toBeNull();
    await c.release();
    expect(c.state.actionError).toMatch(/not handed off/);
    c.stop();
  });

  it('closes and reopens', async () => {
    const { server, api, timers } = setup();
    const s = server.addSession('active');
    const c = new SessionController(api, s.id, timers);
    c.start();
    await settle();
    await c.setStatus('inactive');
    expect(c.state.session?.status).toBe('inactive');
    expect(server.requests.find((r) => r.method === 'PUT')!.body).toEqual({ status: 'inactive' });
    // The close polls again at once (a closed handoff has a new notice);
    // that poll's older answer must not undo the reopening.
    await c.setStatus('active');
    expect(c.state.session?.status).toBe('active');
    c.stop();
  });

  it('closing a handed-off session ends the handoff: the notice the customer got shows at once', async () => {
    const { server, api, timers } = setup();
    const s = server.addSession('handoff');
    server.addMessage(s.id, 'user', 'hello?');
    const c = new SessionController(api, s.id, timers);
    c.start();
    await settle();
    await c.setStatus('inactive');
    await settle();
    expect(c.state.session?.status).toBe('inactive');
    expect(c.state.messages.map((m) => m.source)).toEqual([null, 'system']);
    c.stop();
  });

  it('says so when the session does not exist, and stops asking', async () => {
    const { api, timers, server } = setup();
    const c = new SessionController(api, 99, timers);
    c.start();
    await settle();
    expect(c.state.loadError).toBe('There is no session 99.');
    expect(timers.pending()).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('keeps polling through network failures, with backoff, and recovers', async () => {
    const { server, api, timers } = setup();
    const s = server.addSession('handoff');
    const c = new SessionController(api, s.id, timers);
    c.start();
    await settle();
    server.offline = 4; // two polls of two requests each
    timers.advance(1500);
    await settle();
    expect(c.state.pollError).toBe('Cannot reach the server');
    expect(timers.pending()).toEqual([3000]);
    timers.advance(3000);
    await settle();
    expect(timers.pending()).toEqual([6000]);
    server.addMessage(s.id, 'user', 'back');
    timers.advance(6000);
    await settle();
    expect(c.state.pollError).toBeNull();
    expect(c.state.messages.at(-1)?.message).toBe('back');
    c.stop();
  });

  it('follows status changes made elsewhere', async () => {
    const { server, api, timers } = setup();
    const s = server.addSession('active');
    const c = new SessionController(api, s.id, timers);
    c.start();
    await settle();
    server.sessions.get(s.id)!.status = 'handoff';
    timers.advance(1500);
    await settle();
    expect(c.state.session?.status).toBe('handoff');
    c.stop();
  });
});

describe('summarizeHandoff', () => {
  const base = { id: 1, user_id: null, title: 't', status: 'handoff', channel: 'websocket', message_count: 0, created_at: '', updated_at: '' };
  const m = (id: number, role: string, at: string) => makeMessage(role, { id, message: `${role} ${id}`, created_at: at });
  const now = Date.parse('2026-01-01T10:10:00Z');

  it('waits since the bot handed over, with the last customer words', () => {
    const h = summarizeHandoff({
      ...base,
      messages: [m(1, 'user', '2026-01-01T10:00:00Z'), m(2, 'assistant', '2026-01-01T10:01:00Z'), m(3, 'user', '2026-01-01T10:05:00Z')],
    });
    expect(h.state).toBe('waiting');
    expect(h.since).toBe('2026-01-01T10:01:00Z');
    expect(h.lastCustomerMessage).toBe('user 3');
    expect(waitingMs(h, now)).toBe(9 * 60_000);
  });

  it('counts from the first message after a human reply', () => {
    const h = summarizeHandoff({
      ...base,
      messages: [
        m(1, 'user', '2026-01-01T10:00:00Z'),
        m(2, 'assistant', '2026-01-01T10:01:00Z'),
        m(3, 'agent', '2026-01-01T10:02:00Z'),
        m(4, 'user', '2026-01-01T10:07:00Z'),
        m(5, 'user', '2026-01-01T10:08:00Z'),
      ],
    });
    expect(h.state).toBe('waiting');
    expect(h.since).toBe('2026-01-01T10:07:00Z');
    expect(h.unanswered).toBe(2);
    expect(h.lastCustomerMessage).toBe('user 5');
  });

  it('is answered when a human spoke last', () => {
    const h = summarizeHandoff({ ...base, messages: [m(1, 'user', '2026-01-01T10:00:00Z'), m(2, 'agent', '2026-01-01T10:03:00Z')] });
    expect(h.state).toBe('replied');
    expect(waitingMs(h, now)).toBe(0);
  });
});

describe('fetchRecentSessions', () => {
  it('asks for one page when it can, several of 100 beyond that', async () => {
    const { server, api } = setup();
    for (let i = 0; i < 230; i++) server.addSession('active');
    const small = await fetchRecentSessions(api, 'active', 25);
    expect(small.items).toHaveLength(25);
    expect(small.total).toBe(230);
    expect(server.requests.at(-1)!.url).toBe('/api/sessions?status=active&page=1&limit=25');

    server.requests = [];
    const big = await fetchRecentSessions(api, 'all', 150);
    expect(big.items).toHaveLength(150);
    expect(big.items[0]!.id).toBe(230);
    expect(server.requests.map((r) => r.query.get('page'))).toEqual(['1', '2']);
    expect(new Set(big.items.map((s) => s.id)).size).toBe(150);
  });
});
