// @vitest-environment jsdom
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../api';
import { Auth } from '../auth';
import { Router } from '../router';
import { AGENT_NAME_KEY, TOKEN_KEY, TokenStore } from '../storage';
import { CONSOLE_START, FakeParley, fakeResponse, settle } from '../../../test/console-fakes';
import { FakeClock } from '../../../test/fakes';
import { MemoryStore } from '../../chat/storage';
import { App } from './App';

function fakeHistory(start: string) {
  const entries = [start];
  let index = 0;
  const listeners = new Set<() => void>();
  return {
    location: {
      get pathname() {
        return entries[index]!;
      },
    },
    history: {
      pushState: (_d: unknown, _u: string, url?: string | URL | null) => {
        entries.splice(index + 1, entries.length, String(url));
        index++;
      },
      replaceState: (_d: unknown, _u: string, url?: string | URL | null) => {
        entries[index] = String(url);
      },
    },
    events: {
      addEventListener: (_t: 'popstate', fn: () => void) => listeners.add(fn),
      removeEventListener: (_t: 'popstate', fn: () => void) => listeners.delete(fn),
    },
    go(delta: number) {
      index += delta;
      for (const fn of listeners) fn();
    },
    get path() {
      return entries[index]!;
    },
  };
}

let root: HTMLElement;
let timers: FakeClock;
let server: FakeParley;
let session: MemoryStore;
let local: MemoryStore;
let nav: ReturnType<typeof fakeHistory>;
let router: Router;
let doc: { title: string };

const $ = <T extends HTMLElement = HTMLElement>(sel: string) => root.querySelector<T>(sel);
const $$ = (sel: string) => Array.from(root.querySelectorAll<HTMLElement>(sel));

async function mount(path = '/admin', { signedIn = true } = {}) {
  timers = new FakeClock(CONSOLE_START);
  server = new FakeParley(timers.now);
  session = new MemoryStore();
  local = new MemoryStore();
  if (signedIn) session.setItem(TOKEN_KEY, server.token);
  nav = fakeHistory(path);
  router = new Router(nav.history, nav.location, nav.events);
  doc = { title: '' };
  const auth = new Auth(new TokenStore(session));
  const api = new ApiClient({
    fetch: server.fetch,
    token: () => auth.token(),
    onUnauthorized: (e) => auth.expire(`Signed out: the server refused the token (401: ${e.message}). Sign in again.`),
  });
  act(() => {
    render(<App auth={auth} api={api} router={router} timers={timers} now={timers.now} local={local} doc={doc} />, root);
  });
  await flush();
}

async function flush() {
  await act(async () => {
    await settle(6);
  });
}

async function tick(ms: number) {
  act(() => timers.advance(ms));
  await flush();
}

async function type(el: HTMLInputElement | HTMLTextAreaElement | null, value: string) {
  if (!el) throw new Error('no field');
  act(() => {
    el.value = value;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await flush();
}

async function click(el: Element | null) {
  if (!el) throw new Error('nothing to click');
  act(() => (el as HTMLElement).click());
  await flush();
}

async function key(el: Element | null, k: string, opts: KeyboardEventInit = {}) {
  if (!el) throw new Error('no element');
  act(() => {
    el.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true, ...opts }));
  });
  await flush();
}

beforeEach(() => {
  root = document.createElement('div');
  document.body.appendChild(root);
});

afterEach(() => {
  act(() => render(null, root));
  router?.dispose();
  root.remove();
});

describe('sign-in', () => {
  it('refuses a wrong token with the 401, then signs in and keeps the token in sessionStorage only', async () => {
    await mount('/admin', { signedIn: false });
    expect($('[data-testid=token-input]')).not.toBeNull();
    await type($<HTMLInputElement>('[data-testid=token-input]'), 'wrong-token-wrong-token');
    await click($('[data-testid=token-submit]'));
    expect($('[data-testid=token-error]')?.textContent).toMatch(/401/);
    expect(session.getItem(TOKEN_KEY)).toBeNull();

    await type($<HTMLInputElement>('[data-testid=token-input]'), ` ${server.token} `);
    await click($('[data-testid=token-submit]'));
    expect($('[data-testid=token-input]')).toBeNull();
    expect($('[data-testid=sign-out]')).not.toBeNull();
    expect(session.getItem(TOKEN_KEY)).toBe(server.token);
    expect([...local.map.values()]).not.toContain(server.token);
  });

  it('asks for a token before calling the server', async () => {
    await mount('/admin', { signedIn: false });
    await click($('[data-testid=token-submit]'));
    expect($('[data-testid=token-error]')?.textContent).toMatch(/Enter the admin token/);
    expect(server.requests).toHaveLength(0);
  });

  it('says so when the server cannot be reached', async () => {
    await mount('/admin', { signedIn: false });
    server.offline = 1;
    await type($<HTMLInputElement>('[data-testid=token-input]'), server.token);
    await click($('[data-testid=token-submit]'));
    expect($('[data-testid=token-error]')?.textContent).toMatch(/Cannot reach the server/);
  });

  it('signs out on demand, forgetting the token', async () => {
    await mount();
    await click($('[data-testid=sign-out]'));
    expect($('[data-testid=token-input]')).not.toBeNull();
    expect(session.getItem(TOKEN_KEY)).toBeNull();
  });

  it('returns to sign-in when a later call gets a 401', async () => {
    await mount();
    expect($('[data-testid=sign-out]')).not.toBeNull();
    server.token = 'rotated-token-0123456789';
    await tick(5000);
    expect($('[data-testid=token-input]')).not.toBeNull();
    expect($('[data-testid=token-error]')?.textContent).toMatch(/401/);
    expect(session.getItem(TOKEN_KEY)).toBeNull();
    // Nothing polls any more.
    const n = server.requests.length;
    await tick(60_000);
    expect(server.requests.length).toBe(n);
  });
});

describe('overview', () => {
  it('shows database and LLM state, and follows changes', async () => {
    await mount();
    expect($('[data-testid=health-db]')?.dataset.state).toBe('ok');
    expect($('[data-testid=health-llm]')?.dataset.state).toBe('ok');
    server.dbUp = false;
    server.llmStatus = 'down';
    await tick(5000);
    expect($('[data-testid=health-db]')?.dataset.state).toBe('down');
    expect($('[data-testid=health-llm]')?.dataset.state).toBe('down');
  });

  it('shows unknown while the server cannot be reached, then recovers', async () => {
    await mount();
    server.offline = 100;
    await tick(5000);
    expect($('[data-testid=health-db]')?.dataset.state).toBe('unknown');
    expect(root.textContent).toContain('Server unreachable');
    server.offline = 0;
    await tick(60_000);
    expect($('[data-testid=health-db]')?.dataset.state).toBe('ok');
  });
});

describe('queue and sessions', () => {
  it('lists handoffs with a count and the customer’s last words, and recent sessions', async () => {
    await mount();
    const a = server.addSession('handoff', 'Refund');
    server.addMessage(a.id, 'user', 'I want a <b>human</b>');
    server.addMessage(a.id, 'assistant', 'Connecting you…');
    const b = server.addSession('active', 'Order status');
    await tick(5000);
    expect($('[data-testid=handoff-count]')?.textContent).toBe('1');
    const items = $$('[data-testid=handoff-item]');
    expect(items.map((x) => x.dataset.sessionId)).toEqual([String(a.id)]);
    expect(items[0]!.textContent).toContain('I want a <b>human</b>');
    expect(items[0]!.querySelector('b')).toBeNull();
    expect($$('[data-testid=session-item]').map((x) => x.dataset.sessionId)).toEqual([String(b.id)]);
    expect(server.requests.some((r) => r.path === '/api/sessions' && r.query.get('status') === 'active')).toBe(true);
    expect(doc.title).toMatch(/^\(1\)/);
  });

  it('loads more sessions on demand, keeping the list', async () => {
    await mount();
    for (let i = 0; i < 30; i++) server.addSession('active');
    await tick(4000);
    expect($$('[data-testid=session-item]')).toHaveLength(25);
    const first = $$('[data-testid=session-item]')[0];
    await click($('[data-testid=sessions-more]'));
    expect($$('[data-testid=session-item]')).toHaveLength(30);
    expect($$('[data-testid=session-item]')[0]).toBe(first); // the same DOM node: no remount, scroll kept
    expect($('[data-testid=sessions-more]')).toBeNull();
  });
});

describe('a session', () => {
  async function openHandoff() {
    await mount();
    const s = server.addSession('handoff', 'Help');
    server.addMessage(s.id, 'user', 'I want to talk to a human');
    server.addMessage(s.id, 'assistant', 'Connecting you with **our team**.');
    await tick(3000);
    await click($(`[data-testid=handoff-item][data-session-id="${s.id}"]`));
    return s;
  }

  const transcript = () => $$('[data-testid=transcript] [data-testid=message]');

  it('opens from the queue, with its transcript and status, at its own address', async () => {
    const s = await openHandoff();
    expect(nav.path).toBe(`/admin/sessions/${s.id}`);
    expect($('[data-testid=session-status]')?.textContent).toBe('handoff');
    expect(transcript().map((m) => m.dataset.role)).toEqual(['user', 'assistant']);
    expect(transcript()[1]!.querySelector('[data-testid=message-body] strong')?.textContent).toBe('our team');
    expect($('[data-testid=handoff-item]')?.getAttribute('aria-current')).toBe('page');
  });

  it('appends what the customer writes, without duplicates', async () => {
    const s = await openHandoff();
    server.addMessage(s.id, 'user', 'hello?');
    await tick(1500);
    await tick(1500);
    expect(transcript().map((m) => m.querySelector('[data-testid=message-body]')!.textContent?.trim())).toEqual([
      'I want to talk to a human',
      'Connecting you with our team.',
      'hello?',
    ]);
    const ids = transcript().map((m) => m.dataset.messageId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sends a reply with Enter, shows it once, and remembers the agent name', async () => {
    const s = await openHandoff();
    await type($<HTMLInputElement>('[data-testid=agent-name-input]'), 'Dana');
    expect(local.getItem(AGENT_NAME_KEY)).toBe('Dana');
    const input = $<HTMLTextAreaElement>('[data-testid=reply-input]');
    await type(input, 'Hi, Dana here.\nHow can I help?');
    await key(input, 'Enter', { shiftKey: true }); // a new line, not a send
    expect(server.count(`/api/sessions/${s.id}/agent-message`, 'POST')).toBe(0);
    await key(input, 'Enter');
    expect(server.count(`/api/sessions/${s.id}/agent-message`, 'POST')).toBe(1);
    expect(server.requests.find((r) => r.method === 'POST')!.body).toEqual({ text: 'Hi, Dana here.\nHow can I help?', agent_name: 'Dana' });
    expect($<HTMLTextAreaElement>('[data-testid=reply-input]')!.value).toBe('');
    await tick(1500);
    const agent = transcript().filter((m) => m.dataset.role === 'agent');
    expect(agent).toHaveLength(1);
    expect(agent[0]!.textContent).toContain('Dana');
  });

  it('shows why a reply failed and keeps the text', async () => {
    await openHandoff();
    await type($<HTMLTextAreaElement>('[data-testid=reply-input]'), 'hello');
    server.overrides.set('/api/sessions/1/agent-message', () => fakeResponse(400, { success: false, error: "'text' is too long" }));
    await click($('[data-testid=reply-send]'));
    expect($('[data-testid=reply-error]')?.textContent).toContain("'text' is too long");
    expect($<HTMLTextAreaElement>('[data-testid=reply-input]')!.value).toBe('hello');
  });

  it('releases to the bot; Release is enabled only while the session is handed off', async () => {
    const s = await openHandoff();
    const release = () => $<HTMLButtonElement>('[data-testid=release]')!;
    expect(release().disabled).toBe(false);
    await click(release());
    expect($('[data-testid=session-status]')?.textContent).toBe('active');
    expect(transcript().at(-1)?.dataset.role).toBe('system');
    expect(release().disabled).toBe(true);
    await click(release()); // disabled: nothing is asked
    expect(server.count(`/api/sessions/${s.id}/release`, 'POST')).toBe(1);
    expect($('[data-testid=reply-error]')).toBeNull();
    await tick(3000);
    expect($$('[data-testid=handoff-item]')).toHaveLength(0);
    expect($('[data-testid=handoff-count]')?.textContent).toBe('0');
    expect(server.sessions.get(s.id)?.status).toBe('active');
    // A handoff that starts elsewhere (the bot hands off) enables it again.
    server.sessions.get(s.id)!.status = 'handoff';
    await tick(1500);
    expect(release().disabled).toBe(false);
  });

  it('says "not handed off" when someone else released the session first (409)', async () => {
    const s = await openHandoff();
    server.sessions.get(s.id)!.status = 'active'; // released in another console, not polled yet
    await click($('[data-testid=release]'));
    expect($('[data-testid=reply-error]')?.textContent).toMatch(/not handed off/);
    await tick(1500);
    expect($<HTMLButtonElement>('[data-testid=release]')!.disabled).toBe(true);
  });

  it('shows the title the server took from the first message, in the lists and the header', async () => {
    await mount();
    const s = server.addSession('active');
    server.addMessage(s.id, 'user', '  Where is my order 124?\nIt was due on Monday.');
    const long = server.addSession('handoff');
    server.addMessage(long.id, 'user', 'I would like to talk to a human being about the invoice I received last week please');
    await tick(4000);
    const item = $(`[data-testid=session-item][data-session-id="${s.id}"]`)!;
    expect(item.querySelector('[data-testid=session-title]')?.textContent).toBe('Where is my order 124?');
    const queued = $(`[data-testid=handoff-item][data-session-id="${long.id}"] [data-testid=session-title]`)!;
    expect(queued.textContent).toBe('I would like to talk to a human being about the invoice I…');
    expect(queued.getAttribute('title')).toBe(queued.textContent);
    await click(item);
    expect($('.session-head [data-testid=session-title]')?.textContent).toBe('Where is my order 124?');
  });

  it('filters recent sessions to those waiting for a human', async () => {
    await mount();
    const waiting = server.addSession('handoff', 'Refund please');
    server.addSession('active', 'Order status');
    server.addSession('inactive', 'Old');
    await tick(4000);
    const filter = $<HTMLSelectElement>('[data-testid=session-filter]')!;
    expect(Array.from(filter.options).map((o) => [o.value, o.textContent])).toContainEqual(['handoff', 'Waiting (handoff)']);
    act(() => {
      filter.value = 'handoff';
      filter.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await flush();
    expect(server.requests.some((r) => r.path === '/api/sessions' && r.query.get('status') === 'handoff')).toBe(true);
    expect($$('[data-testid=session-item]').map((x) => x.dataset.sessionId)).toEqual([String(waiting.id)]);
  });

  it('closes a session after a confirmation', async () => {
    const s = await openHandoff();
    await click($('[data-testid=close-session]'));
    expect(server.requests.some((r) => r.method === 'PUT')).toBe(false);
    await click($('[data-testid=close-confirm]'));
    expect(server.sessions.get(s.id)?.status).toBe('inactive');
    expect($('[data-testid=session-status]')?.textContent).toBe('inactive');
  });

  it('says when a session does not exist', async () => {
    await mount('/admin/sessions/404');
    expect(root.textContent).toContain('There is no session 404.');
  });
});

describe('navigation', () => {
  it('switches views with pushState and follows back and forward', async () => {
    await mount();
    const s = server.addSession('active');
    await tick(4000);
    await click($(`[data-testid=session-item][data-session-id="${s.id}"]`));
    expect(nav.path).toBe(`/admin/sessions/${s.id}`);
    await click($('[data-testid=nav-settings]'));
    expect(nav.path).toBe('/admin/settings');
    expect($$('[data-testid=setting]').length).toBeGreaterThan(0);
    await click($('[data-testid=nav-knowledge]'));
    expect(nav.path).toBe('/admin/knowledge');
    expect($('[data-testid=knowledge-query]')).not.toBeNull();
    act(() => nav.go(-1));
    await flush();
    expect($$('[data-testid=setting]').length).toBeGreaterThan(0);
    act(() => nav.go(-1));
    await flush();
    expect($('[data-testid=transcript]')).not.toBeNull();
    act(() => nav.go(+2));
    await flush();
    expect($('[data-testid=knowledge-query]')).not.toBeNull();
    await click($('[data-testid=nav-sessions]'));
    expect(nav.path).toBe(`/admin/sessions/${s.id}`);
  });
});

describe('settings', () => {
  it('groups by category, saves inline and shows the state', async () => {
    await mount('/admin/settings');
    const groups = $$('fieldset legend').map((l) => l.textContent);
    expect(groups).toEqual(['ai', 'chat']);
    const row = $('[data-testid=setting][data-key=welcome_message]')!;
    expect(row.dataset.state).toBe('idle');
    await type(row.querySelector<HTMLInputElement>('[data-testid=setting-value]'), 'Hi there!');
    await click(row.querySelector('[data-testid=setting-save]'));
    expect(row.dataset.state).toBe('saved');
    expect(server.settings.find((s) => s.key === 'welcome_message')?.value).toBe('Hi there!');
    expect(server.requests.find((r) => r.method === 'PUT')!.body).toEqual({ value: 'Hi there!' });

    server.offline = 1;
    await type(row.querySelector<HTMLInputElement>('[data-testid=setting-value]'), 'Again');
    expect(row.dataset.state).toBe('idle');
    await click(row.querySelector('[data-testid=setting-save]'));
    expect(row.dataset.state).toBe('error');
    expect(row.textContent).toContain('Cannot reach the server');
  });
});

describe('knowledge', () => {
  it('searches and renders results sanitised; reloads and shows counts and problems', async () => {
    await mount('/admin/knowledge');
    await type($<HTMLInputElement>('[data-testid=knowledge-query]'), 'return policy');
    await click($('[data-testid=knowledge-search]'));
    const req = server.requests.find((r) => r.path === '/api/knowledge/search')!;
    expect(req.query.get('q')).toBe('return policy');
    expect(req.query.get('top_k')).toBe('5');
    const results = $$('[data-testid=knowledge-result]');
    expect(results).toHaveLength(1);
    expect(results[0]!.textContent).toContain('returns.md');
    expect(results[0]!.textContent).toContain('Return policy');
    expect(results[0]!.querySelector('strong')?.textContent).toBe('30 days');
    expect(results[0]!.querySelector('img')).toBeNull();

    await click($('[data-testid=knowledge-reload]'));
    const out = $('[data-testid=knowledge-reload-result]')!;
    expect(out.textContent).toContain('9 documents, 60 sections');
    expect(out.textContent).toContain('bad.md: not UTF-8');
  });
});
