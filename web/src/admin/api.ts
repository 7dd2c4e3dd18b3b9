// A small typed client for Parley's REST API (docs/api.md), as the console
// uses it. fetch and the admin token are injected, so tests drive it with a
// fake. Every failure is one of three errors:
//
//   UnauthorizedError  401: no token, or the wrong one (the console signs out)
//   ApiError           any other answer that is not a success; `status` and
//                      the server's `error` text
//   NetworkError       no answer at all (server down, connection refused)

export type SessionStatus = 'active' | 'handoff' | 'inactive';
export type MessageRole = 'user' | 'assistant' | 'agent';

export interface Message {
  id: number;
  session_id: number;
  user_id: number | null;
  is_user: boolean;
  role: MessageRole | string;
  message: string;
  message_type: string;
  tokens_used: number;
  response_time: number;
  client_id: string | null;
  reply_to: number | null;
  /** llm, fallback, agent, system; null for the customer's messages. */
  source: string | null;
  agent_name?: string | null;
  created_at: string;
}

export interface Session {
  id: number;
  user_id: number | null;
  title: string;
  status: SessionStatus | string;
  channel: string;
  message_count: number;
  created_at: string;
  updated_at: string;
}

export interface SessionWithMessages extends Session {
  messages: Message[];
}

export interface User {
  id: number;
  name: string;
  email: string;
  avatar_url: string | null;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface Pagination {
  page: number;
  limit: number;
  total: number;
  pages: number;
}

export interface Page<T> {
  items: T[];
  pagination: Pagination;
}

export interface Setting {
  id: number;
  key: string;
  value: string;
  description: string | null;
  category: string;
  created_at: string;
  updated_at: string;
}

export interface ServiceHealth {
  name: string;
  state: string;
  restarts: number;
  last_error: string;
}

export interface ServerHealth {
  status: string;
  timestamp?: string;
  database?: string;
  database_backend?: string;
  live_sessions?: number;
  services?: ServiceHealth[];
  reason?: string;
}

export interface LlmHealth {
  success: boolean;
  llm_service: {
    provider: string;
    status: string;
    connected: boolean;
    url: string | null;
    model: string;
    restarts?: number;
    last_error?: string;
    circuit?: string;
    last_latency_ms?: number;
  };
  timestamp?: string;
}

export interface KnowledgeMatch {
  source: string;
  title: string;
  section: string;
  content: string;
  score: number;
}

export interface KnowledgeSearch {
  query: string;
  top_k: number;
  matches: KnowledgeMatch[];
}

export interface KnowledgeReload {
  documents: number;
  sections: number;
  added: string[];
  updated: string[];
  removed: string[];
  problems: Array<string | { path?: string; source?: string; error?: string; reason?: string }>;
}

export interface AgentMessageResult {
  session_id: number;
  status: string;
  message: Message;
}

/** `active` leaves out handed-off sessions; `handoff`: those a human has. */
export type SessionFilter = 'active' | 'handoff' | 'inactive' | 'all';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class UnauthorizedError extends ApiError {
  constructor(message: string) {
    super(401, message);
    this.name = 'UnauthorizedError';
  }
}

export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiOptions {
  fetch: FetchLike;
  /** The admin token; read on every request. */
  token: () => string | null;
  /** Called on every 401, before the error is thrown. */
  onUnauthorized?: (error: UnauthorizedError) => void;
  /** Prefix of every path (default: same origin). */
  base?: string;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Statuses whose JSON body is data rather than an error (GET /health's 503). */
  acceptStatuses?: number[];
  /** The body is a report, not an envelope: `success: false` is part of the answer (GET /api/llm/health). */
  report?: boolean;
  signal?: AbortSignal;
}

interface Envelope {
  success?: boolean;
  data?: unknown;
  error?: unknown;
  pagination?: Pagination;
}

export function buildQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** A short, human reason for any error the client throws (or anything else). */
export function describeError(error: unknown): string {
  if (error instanceof UnauthorizedError) return `Not authorised (401): ${error.message}`;
  if (error instanceof ApiError) return `${error.message} (${error.status})`;
  if (error instanceof NetworkError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export class ApiClient {
  constructor(private readonly opts: ApiOptions) {}

  /** Sends one request and returns the parsed JSON body (the whole envelope). */
  async raw(method: string, path: string, options: RequestOptions = {}): Promise<Envelope & Record<string, unknown>> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = this.opts.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers, cache: 'no-store' };
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    if (options.signal) init.signal = options.signal;
    const url = `${this.opts.base ?? ''}${path}${buildQuery(options.query)}`;

    let res: Response;
    try {
      res = await this.opts.fetch(url, init);
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') throw e;
      throw new NetworkError('Cannot reach the server');
    }

    let body: (Envelope & Record<string, unknown>) | null = null;
    try {
      const text = await res.text();
      const parsed: unknown = text ? JSON.parse(text) : null;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Envelope & Record<string, unknown>;
    } catch {
      body = null;
    }
    const serverMessage = typeof body?.error === 'string' && body.error ? body.error : null;

    if (res.status === 401) {
      const err = new UnauthorizedError(serverMessage ?? 'the admin token was refused');
      this.opts.onUnauthorized?.(err);
      throw err;
    }
    const accepted = res.ok || (options.acceptStatuses?.includes(res.status) ?? false);
    if (!accepted || !body || (body.success === false && !options.report)) {
      throw new ApiError(res.status, serverMessage ?? (body ? `request failed` : `unexpected answer from the server`));
    }
    return body;
  }

  private async data<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const body = await this.raw(method, path, options);
    return body.data as T;
  }

  private async page<T>(path: string, query: Query, signal?: AbortSignal): Promise<Page<T>> {
    const body = await this.raw('GET', path, { query, signal });
    const items = Array.isArray(body.data) ? (body.data as T[]) : [];
    const pagination = body.pagination ?? { page: 1, limit: items.length, total: items.length, pages: items.length ? 1 : 0 };
    return { items, pagination };
  }

  // -- health --

  /** GET /health: 200 healthy, 503 unhealthy; both are answers. */
  async health(signal?: AbortSignal): Promise<ServerHealth> {
    const body = await this.raw('GET', '/health', { acceptStatuses: [503], report: true, signal });
    return body as unknown as ServerHealth;
  }

  async llmHealth(signal?: AbortSignal): Promise<LlmHealth> {
    const body = await this.raw('GET', '/api/llm/health', { acceptStatuses: [503], report: true, signal });
    if (!body.llm_service || typeof body.llm_service !== 'object') throw new ApiError(200, 'unexpected answer from /api/llm/health');
    return body as unknown as LlmHealth;
  }

  /**
   * A cheap authenticated call with a candidate token: resolves when the
   * server accepts it, throws UnauthorizedError when not. The signed-in
   * state (and onUnauthorized) is not involved.
   */
  async checkToken(token: string): Promise<void> {
    const probe = new ApiClient({ fetch: this.opts.fetch, base: this.opts.base, token: () => token });
    await probe.raw('GET', '/api/sessions', { query: { limit: 1 } });
  }

  // -- sessions and messages --

  async handoffs(limit = 50, signal?: AbortSignal): Promise<SessionWithMessages[]> {
    const data = await this.data<{ items?: SessionWithMessages[] }>('GET', '/api/handoffs', { query: { limit }, signal });
    return Array.isArray(data?.items) ? data.items : [];
  }

  sessions(params: { status?: SessionFilter; page?: number; limit?: number; userId?: number }, signal?: AbortSignal): Promise<Page<Session>> {
    return this.page<Session>('/api/sessions', { status: params.status, page: params.page, limit: params.limit, user_id: params.userId }, signal);
  }

  session(id: number, signal?: AbortSignal): Promise<Session> {
    return this.data<Session>('GET', `/api/sessions/${id}`, { signal });
  }

  sessionWithMessages(id: number, signal?: AbortSignal): Promise<SessionWithMessages> {
    return this.data<SessionWithMessages>('GET', `/api/sessions/${id}`, { query: { include_messages: true }, signal });
  }

  updateSession(id: number, changes: { status?: 'active' | 'inactive'; title?: string }): Promise<Session> {
    return this.data<Session>('PUT', `/api/sessions/${id}`, { body: changes });
  }

  messagesAfter(sessionId: number, afterId: number, limit = 100, signal?: AbortSignal): Promise<Page<Message>> {
    return this.page<Message>('/api/messages', { session_id: sessionId, after_id: afterId, limit }, signal);
  }

  agentMessage(sessionId: number, text: string, agentName: string): Promise<AgentMessageResult> {
    const body: { text: string; agent_name?: string } = { text };
    if (agentName.trim()) body.agent_name = agentName.trim();
    return this.data<AgentMessageResult>('POST', `/api/sessions/${sessionId}/agent-message`, { body });
  }

  release(sessionId: number): Promise<AgentMessageResult> {
    return this.data<AgentMessageResult>('POST', `/api/sessions/${sessionId}/release`);
  }

  user(id: number, signal?: AbortSignal): Promise<User> {
    return this.data<User>('GET', `/api/users/${id}`, { signal });
  }

  // -- settings --

  async settings(): Promise<Setting[]> {
    const data = await this.data<Setting[]>('GET', '/api/settings');
    return Array.isArray(data) ? data : [];
  }

  saveSetting(key: string, value: string): Promise<Setting> {
    return this.data<Setting>('PUT', `/api/settings/${encodeURIComponent(key)}`, { body: { value } });
  }

  // -- knowledge --

  searchKnowledge(q: string, topK = 5): Promise<KnowledgeSearch> {
    return this.data<KnowledgeSearch>('GET', '/api/knowledge/search', { query: { q, top_k: topK } });
  }

  reloadKnowledge(): Promise<KnowledgeReload> {
    return this.data<KnowledgeReload>('POST', '/api/knowledge/reload');
  }
}
