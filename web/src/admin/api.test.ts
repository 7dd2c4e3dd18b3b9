import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, NetworkError, UnauthorizedError, buildQuery, describeError, type FetchLike } from './api';
import { fakeResponse } from '../../test/console-fakes';

function client(answer: (url: string, init: RequestInit) => Response | Promise<Response>, token: string | null = 'tok-0123456789abcdef') {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch: FetchLike = async (url, init = {}) => {
    calls.push({ url, init });
    return answer(url, init);
  };
  const onUnauthorized = vi.fn();
  const api = new ApiClient({ fetch, token: () => token, onUnauthorized });
  return { api, calls, onUnauthorized };
}

const headersOf = (init: RequestInit) => init.headers as Record<string, string>;

describe('ApiClient', () => {
  it('sends the admin token as a bearer header', async () => {
    const { api, calls } = client(() => fakeResponse(200, { success: true, data: [] }));
    await api.settings();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe('/api/settings');
    expect(headersOf(calls[0]!.init).Authorization).toBe('Bearer tok-0123456789abcdef');
    expect(calls[0]!.init.method).toBe('GET');
    expect(calls[0]!.init.body).toBeUndefined();
  });

  it('sends no Authorization header without a token', async () => {
    const { api, calls } = client(() => fakeResponse(200, { status: 'healthy' }), null);
    await api.health();
    expect(headersOf(calls[0]!.init).Authorization).toBeUndefined();
  });

  it('sends JSON bodies with their content type', async () => {
    const { api, calls } = client(() => fakeResponse(201, { success: true, data: { session_id: 7, status: 'handoff', message: { id: 9 } } }));
    const res = await api.agentMessage(7, 'Hello **there**', '  Dana ');
    expect(res.message.id).toBe(9);
    const { url, init } = calls[0]!;
    expect(url).toBe('/api/sessions/7/agent-message');
    expect(init.method).toBe('POST');
    expect(headersOf(init)['Content-Type']).toBe('application/json');
    expect(JSON.parse(init.body as string)).toEqual({ text: 'Hello **there**', agent_name: 'Dana' });
  });

  it('leaves agent_name out when none is given (the server names the agent)', async () => {
    const { api, calls } = client(() => fakeResponse(201, { success: true, data: {} }));
    await api.agentMessage(7, 'hi', '   ');
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({ text: 'hi' });
  });

  it('builds queries and escapes path segments', async () => {
    const { api, calls } = client(() => fakeResponse(200, { success: true, data: [], pagination: { page: 1, limit: 100, total: 0, pages: 0 } }));
    await api.messagesAfter(7, 42, 100);
    expect(calls[0]!.url).toBe('/api/messages?session_id=7&after_id=42&limit=100');
    await api.sessions({ status: 'active', limit: 25 });
    expect(calls[1]!.url).toBe('/api/sessions?status=active&limit=25');
    await api.saveSetting('my key/x', 'v').catch(() => undefined);
    expect(calls[2]!.url).toBe('/api/settings/my%20key%2Fx');
    await api.searchKnowledge('return & refund', 5).catch(() => undefined);
    expect(calls[3]!.url).toBe('/api/knowledge/search?q=return+%26+refund&top_k=5');
    expect(buildQuery({ a: undefined, b: true })).toBe('?b=true');
  });

  it('maps 401 to UnauthorizedError and tells onUnauthorized', async () => {
    const { api, onUnauthorized } = client(() => fakeResponse(401, { success: false, error: 'the admin token is wrong' }));
    const err = await api.handoffs().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as UnauthorizedError).status).toBe(401);
    expect((err as Error).message).toBe('the admin token is wrong');
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('turns error envelopes into ApiError with the status and the server text', async () => {
    const { api, onUnauthorized } = client(() => fakeResponse(409, { success: false, error: 'the session is not with a human agent' }));
    const err = await api.release(3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).not.toBeInstanceOf(UnauthorizedError);
    expect((err as ApiError).status).toBe(409);
    expect((err as ApiError).message).toBe('the session is not with a human agent');
    expect(describeError(err)).toBe('the session is not with a human agent (409)');
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('copes with error answers that are not JSON', async () => {
    const { api } = client(() => fakeResponse(502, '<html>Bad gateway</html>'));
    const err = (await api.settings().catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(502);
  });

  it('treats success:false in a 200 as an error', async () => {
    const { api } = client(() => fakeResponse(200, { success: false, error: 'odd' }));
    await expect(api.settings()).rejects.toMatchObject({ status: 200, message: 'odd' });
  });

  it('maps a failed fetch to NetworkError', async () => {
    const { api } = client(() => {
      throw new TypeError('Failed to fetch');
    });
    const err = await api.settings().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(describeError(err)).toBe('Cannot reach the server');
  });

  it('reads GET /health when it answers 503 (unhealthy is an answer)', async () => {
    const { api } = client(() => fakeResponse(503, { status: 'unhealthy', database: 'disconnected', reason: 'disk full' }));
    await expect(api.health()).resolves.toMatchObject({ status: 'unhealthy', database: 'disconnected' });
  });

  it('reads an LLM report whose success is false (the LLM is down: that is an answer)', async () => {
    const { api } = client(() => fakeResponse(200, { success: false, llm_service: { provider: 'websocket', status: 'down', connected: false, url: 'ws://x', model: 'm', last_error: 'refused' } }));
    await expect(api.llmHealth()).resolves.toMatchObject({ success: false, llm_service: { status: 'down', last_error: 'refused' } });
  });

  it('returns pages with their pagination', async () => {
    const { api } = client(() => fakeResponse(200, { success: true, data: [{ id: 1 }], pagination: { page: 2, limit: 1, total: 5, pages: 5 } }));
    const page = await api.sessions({ page: 2, limit: 1 });
    expect(page.items).toEqual([{ id: 1 }]);
    expect(page.pagination.total).toBe(5);
  });

  it('unwraps the handoff list', async () => {
    const { api, calls } = client(() => fakeResponse(200, { success: true, data: { items: [{ id: 4, messages: [] }] } }));
    expect(await api.handoffs(10)).toEqual([{ id: 4, messages: [] }]);
    expect(calls[0]!.url).toBe('/api/handoffs?limit=10');
  });

  it('checks a candidate token without signing anyone out', async () => {
    const { api, calls, onUnauthorized } = client(() => fakeResponse(401, { success: false, error: 'the admin token is wrong' }), 'old-token');
    await expect(api.checkToken('candidate-token')).rejects.toBeInstanceOf(UnauthorizedError);
    expect(headersOf(calls[0]!.init).Authorization).toBe('Bearer candidate-token');
    expect(onUnauthorized).not.toHaveBeenCalled();
  });
});
