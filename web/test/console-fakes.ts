// Test doubles for the console's tests: an in-memory Parley that answers
// fetch like the real API does (docs/api.md), just enough of it, and the
// messages it stores. The clock is FakeClock (./fakes.ts), started at
// CONSOLE_START.

import type { FetchLike, Message, Session, Setting } from '../src/admin/api';

/** When the console's tests start their FakeClock. */
export const CONSOLE_START = Date.parse('2026-01-05T12:00:00Z');

/** Lets pending promises (and Preact's rendering) run. */
export async function settle(rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => globalThis.setTimeout(r, 0));
}

export interface Recorded {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

export function fakeResponse(status: number, body: unknown): Response {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    status,
    ok: status >= 200 && status < 300,
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
  } as unknown as Response;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

/**
 * The title the server gives a session from its first user message
 * (docs/api.md, "Session"): the first line that is not blank, whitespace
 * collapsed, at most 60 characters, cut at a word and ending with `…`.
 */
export function titleFromMessage(text: string): string {
  const line = (text.split('\n').find((l) => l.trim() !== '') ?? '').trim().replace(/\s+/g, ' ');
  if (line.length <= 60) return line;
  const cut = line.slice(0, 59);
  const space = cut.lastIndexOf(' ');
  return `${(space > 0 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/**
 * A stored message as the API returns it: plain text, answered by the rules
 * (`source` fallback) unless `role` or `fields` say otherwise.
 */
export function makeMessage(role: string, fields: Partial<Message> = {}): Message {
  return {
    id: 1,
    session_id: 1,
    user_id: null,
    is_user: role === 'user',
    role,
    message: '',
    message_type: 'text',
    tokens_used: 0,
    response_time: 0,
    client_id: null,
    reply_to: null,
    source: role === 'user' ? null : role === 'agent' ? 'agent' : 'fallback',
    agent_name: null,
    created_at: '2026-01-01T00:00:00.000000Z',
    ...fields,
  };
}

/** An in-memory Parley for the console. */
export class FakeParley {
  token = 'test-admin-token-0123';
  sessions = new Map<number, Session>();
  messages: Message[] = [];
  settings: Setting[] = [
    { id: 1, key: 'enable_advanced_ai', value: 'true', description: 'Enable advanced AI features', category: 'ai', created_at: '', updated_at: '' },
    { id: 2, key: 'welcome_message', value: 'Hello!', description: 'Greeting', category: 'chat', created_at: '', updated_at: '' },
  ];
  requests: Recorded[] = [];
  /** The next requests to these paths fail at the network level (count). */
  offline = 0;
  /** Per path prefix: a forced answer. */
  overrides = new Map<string, () => Response>();
  dbUp = true;
  llmStatus = 'fallback';
  private nextMessageId = 1;
  private nextSessionId = 1;

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** A session; without a title it takes one from its first user message, like the server's. */
  addSession(status: Session['status'] = 'active', title = ''): Session {
    const id = this.nextSessionId++;
    const t = iso(this.now());
    const s: Session = { id, user_id: null, title, status, channel: 'websocket', message_count: 0, created_at: t, updated_at: t };
    this.sessions.set(id, s);
    return s;
  }

  addMessage(sessionId: number, role: 'user' | 'assistant' | 'agent', text: string, extra: Partial<Message> = {}): Message {
    const m = makeMessage(role, { id: this.nextMessageId++, session_id: sessionId, message: text, created_at: iso(this.now()), ...extra });
    this.messages.push(m);
    const s = this.sessions.get(sessionId);
    if (s) {
      s.message_count++;
      s.updated_at = m.created_at;
      if (!s.title && role === 'user') s.title = titleFromMessage(text);
    }
    return m;
  }

  sessionMessages(id: number): Message[] {
    return this.messages.filter((m) => m.session_id === id).sort((a, b) => a.id - b.id);
  }

  count(path: string, method = 'GET'): number {
    return this.requests.filter((r) => r.path === path && r.method === method).length;
  }

  fetch: FetchLike = async (input, init = {}) => {
    const url = new URL(input, 'http://parley.test');
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    const method = init.method ?? 'GET';
    this.requests.push({ method, url: input, path: url.pathname, query: url.searchParams, headers, body });
    if (this.offline > 0) {
      this.offline--;
      throw new TypeError('Failed to fetch');
    }
    for (const [prefix, answer] of this.overrides) if (url.pathname.startsWith(prefix)) return answer();
    return this.route(method, url, headers, body);
  };

  private ok(data: unknown, status = 200, extra: Record<string, unknown> = {}): Response {
    return fakeResponse(status, { success: true, data, ...extra });
  }

  private fail(status: number, error: string): Response {
    return fakeResponse(status, { success: false, error });
  }

  private route(method: string, url: URL, headers: Record<string, string>, body: unknown): Response {
    const p = url.pathname;
    const q = url.searchParams;
    if (p === '/health') {
      return this.dbUp
        ? fakeResponse(200, { status: 'healthy', database: 'connected', database_backend: 'sqlite', live_sessions: 2, services: [{ name: 'persistence', state: 'running', restarts: 0, last_error: '' }] })
        : fakeResponse(503, { status: 'unhealthy', database: 'disconnected', reason: 'disk full', live_sessions: 0, services: [] });
    }
    if (!p.startsWith('/api/')) return this.fail(404, `not found: ${p}`);
    if (headers.authorization !== `Bearer ${this.token}`) {
      return this.fail(401, headers.authorization ? 'the admin token is wrong' : 'this endpoint needs the admin token (Authorization: Bearer <token>)');
    }
    let m: RegExpMatchArray | null;
    if (p === '/api/llm/health') {
      return fakeResponse(200, { success: this.llmStatus !== 'down', llm_service: { provider: 'fallback', status: this.llmStatus, connected: false, url: null, model: 'fallback' } });
    }
    if (p === '/api/handoffs') {
      const items = [...this.sessions.values()]
        .filter((s) => s.status === 'handoff')
        .sort((a, b) => b.id - a.id)
        .map((s) => ({ ...s, messages: this.sessionMessages(s.id) }));
      return this.ok({ items });
    }
    if (p === '/api/sessions' && method === 'GET') {
      const status = q.get('status') ?? 'all';
      if (!['active', 'handoff', 'inactive', 'all'].includes(status)) return this.fail(400, "'status' must be active, inactive, handoff or all");
      const limit = Number(q.get('limit') ?? 20);
      const page = Number(q.get('page') ?? 1);
      const all = [...this.sessions.values()].filter((s) => status === 'all' || s.status === status).sort((a, b) => b.id - a.id);
      const items = all.slice((page - 1) * limit, page * limit);
      return this.ok(items, 200, { pagination: { page, limit, total: all.length, pages: Math.ceil(all.length / limit) } });
    }
    if ((m = p.match(/^\/api\/sessions\/(\d+)$/))) {
      const s = this.sessions.get(Number(m[1]));
      if (!s) return this.fail(404, `no session ${m[1]}`);
      if (method === 'PUT') {
        const b = body as { status?: string; title?: string };
        if (b.status !== undefined && b.status !== 'active' && b.status !== 'inactive') return this.fail(400, "'status' must be active or inactive");
        if (typeof b.title === 'string') s.title = b.title;
        if (b.status) {
          // A new status ends a handoff, as release does: the customer gets the notice.
          if (s.status === 'handoff') this.addMessage(s.id, 'assistant', "You're back with the assistant.", { source: 'system' });
          s.status = b.status;
        }
        return this.ok({ ...s });
      }
      return this.ok(q.get('include_messages') === 'true' ? { ...s, messages: this.sessionMessages(s.id) } : { ...s });
    }
    if ((m = p.match(/^\/api\/sessions\/(\d+)\/agent-message$/))) {
      const s = this.sessions.get(Number(m[1]));
      if (!s) return this.fail(404, `no session ${m[1]}`);
      const b = body as { text?: string; agent_name?: string };
      if (!b.text?.trim()) return this.fail(400, "'text' is required");
      s.status = 'handoff';
      const msg = this.addMessage(s.id, 'agent', b.text, { agent_name: b.agent_name ?? 'Support agent' });
      return this.ok({ session_id: s.id, status: s.status, message: msg }, 201);
    }
    if ((m = p.match(/^\/api\/sessions\/(\d+)\/release$/))) {
      const s = this.sessions.get(Number(m[1]));
      if (!s) return this.fail(404, `no session ${m[1]}`);
      if (s.status !== 'handoff') return this.fail(409, 'the session is not with a human agent');
      s.status = 'active';
      const msg = this.addMessage(s.id, 'assistant', "You're back with the assistant.", { source: 'system' });
      return this.ok({ session_id: s.id, status: s.status, message: msg });
    }
    if (p === '/api/messages') {
      const sid = Number(q.get('session_id'));
      const after = Number(q.get('after_id') ?? 0);
      const limit = Number(q.get('limit') ?? 50);
      const all = this.sessionMessages(sid).filter((x) => x.id > after);
      return this.ok(all.slice(0, limit), 200, { pagination: { page: 1, limit, total: all.length, pages: Math.ceil(all.length / limit) } });
    }
    if ((m = p.match(/^\/api\/users\/(\d+)$/))) return this.fail(404, 'user not found');
    if (p === '/api/settings') return this.ok(this.settings.map((s) => ({ ...s })));
    if ((m = p.match(/^\/api\/settings\/(.+)$/)) && method === 'PUT') {
      const key = decodeURIComponent(m[1]!);
      const b = body as { value?: unknown };
      if (b.value === undefined) return this.fail(400, "'value' is required");
      let s = this.settings.find((x) => x.key === key);
      if (!s) {
        s = { id: this.settings.length + 1, key, value: '', description: null, category: 'general', created_at: '', updated_at: '' };
        this.settings.push(s);
      }
      s.value = typeof b.value === 'string' ? b.value : JSON.stringify(b.value);
      return this.ok({ ...s });
    }
    if (p === '/api/knowledge/search') {
      const query = q.get('q') ?? '';
      if (!query) return this.fail(400, "'q' is required");
      return this.ok({
        query,
        top_k: Number(q.get('top_k') ?? 3),
        matches: [{ source: 'returns.md', title: 'Returns', section: 'Return policy', content: 'Return within **30 days**. <img src=x onerror=alert(1)>', score: 6.3285 }],
      });
    }
    if (p === '/api/knowledge/reload' && method === 'POST') {
      return this.ok({ documents: 9, sections: 60, added: [], updated: ['faq.md'], removed: [], problems: ['bad.md: not UTF-8'] });
    }
    return this.fail(404, `not found: ${p}`);
  }
}
