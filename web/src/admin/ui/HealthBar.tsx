import { useState } from 'preact/hooks';
import { NetworkError, type LlmHealth, type ServerHealth } from '../api';
import { useEnv } from './env';
import { usePolling } from './hooks';

export const HEALTH_POLL_MS = 5000;

export type Indicator = 'ok' | 'down' | 'unknown';

export function dbIndicator(h: ServerHealth | null): Indicator {
  if (!h) return 'unknown';
  if (h.database === 'connected' && h.status === 'healthy') return 'ok';
  if (h.database === 'disconnected' || h.status === 'unhealthy') return 'down';
  return 'unknown';
}

/**
 * ok: answers come from where they should (the LLM, or the rules when no
 * LLM is configured); down: the LLM is configured but not answering
 * (connecting or gone), the fallback stands in.
 */
export function llmIndicator(h: LlmHealth | null): Indicator {
  const st = h?.llm_service?.status;
  if (!h || !st) return 'unknown';
  if (st === 'healthy' || st === 'fallback') return 'ok';
  if (st === 'down' || st === 'degraded') return 'down';
  return h.success ? 'ok' : 'down';
}

export function HealthBar() {
  const env = useEnv();
  const [server, setServer] = useState<ServerHealth | null>(null);
  const [llm, setLlm] = useState<LlmHealth | null>(null);
  const [unreachable, setUnreachable] = useState(false);
  const [llmError, setLlmError] = useState<string | null>(null);

  usePolling(
    async (ctx) => {
      const [s, l] = await Promise.allSettled([env.api.health(), env.api.llmHealth()]);
      if (ctx.isStopped()) return;
      const offline = (s.status === 'rejected' && s.reason instanceof NetworkError) || (l.status === 'rejected' && l.reason instanceof NetworkError);
      setUnreachable(offline);
      setServer(s.status === 'fulfilled' ? s.value : null);
      setLlm(l.status === 'fulfilled' ? l.value : null);
      setLlmError(l.status === 'rejected' ? String((l.reason as Error)?.message ?? l.reason) : null);
      // A 401 (token revoked) signs out through the client; other failures
      // are shown above and tried again on the next poll, with backoff.
      const failed = [s, l].find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed && offline) throw failed.reason;
    },
    HEALTH_POLL_MS,
    [],
  );

  const db = dbIndicator(server);
  const ai = llmIndicator(llm);
  const services = server?.services ?? [];
  const troubled = services.filter((x) => x.state !== 'running' || x.restarts > 0 || x.last_error);
  const svc = llm?.llm_service;

  const dbText = server ? (db === 'ok' ? `${server.database_backend ?? 'db'} connected` : `${server.database_backend ?? 'db'} ${server.database ?? 'unknown'}`) : 'unknown';
  const dbTitle = server ? [server.reason, server.timestamp ? `checked ${server.timestamp}` : null].filter(Boolean).join(' · ') : 'no answer from /health yet';
  const llmText = svc ? (svc.status === 'fallback' ? 'rules only (no LLM)' : `${svc.model} ${svc.status}`) : 'unknown';
  const llmTitle = svc
    ? [
        `provider ${svc.provider}`,
        svc.url ? `url ${svc.url}` : null,
        svc.circuit ? `circuit ${svc.circuit}` : null,
        svc.last_latency_ms !== undefined ? `last check ${svc.last_latency_ms} ms` : null,
        svc.restarts ? `${svc.restarts} restarts` : null,
        svc.last_error ? `last error: ${svc.last_error}` : null,
      ]
        .filter(Boolean)
        .join(' · ')
    : (llmError ?? 'no answer yet');

  return (
    <div class="health" role="group" aria-label="Server health">
      {unreachable ? (
        <span class="chip chip--down" role="status">
          Server unreachable — retrying
        </span>
      ) : null}
      <span class="chip" data-testid="health-db" data-state={db} title={dbTitle}>
        <span class={`dot dot--${db}`} aria-hidden="true" />
        <span class="chip__label">DB</span> {dbText}
      </span>
      <span class="chip" data-testid="health-llm" data-state={ai} title={llmTitle}>
        <span class={`dot dot--${ai}`} aria-hidden="true" />
        <span class="chip__label">LLM</span> {llmText}
        {svc?.last_error ? <span class="chip__error"> · {svc.last_error}</span> : null}
      </span>
      {server?.live_sessions !== undefined ? (
        <span class="chip" title="sessions with a live actor (a connected socket or recently active)" data-testid="health-live">
          <span class="chip__label">Live</span> {server.live_sessions}
        </span>
      ) : null}
      {services.length ? (
        <details class={`services ${troubled.length ? 'services--trouble' : ''}`}>
          <summary class="chip" data-testid="health-services">
            <span class={`dot dot--${troubled.some((x) => x.state !== 'running') ? 'down' : troubled.length ? 'warn' : 'ok'}`} aria-hidden="true" />
            <span class="chip__label">Services</span> {services.filter((x) => x.state === 'running').length}/{services.length} running
          </summary>
          <table class="services__table">
            <thead>
              <tr>
                <th>service</th>
                <th>state</th>
                <th>restarts</th>
                <th>last error</th>
              </tr>
            </thead>
            <tbody>
              {services.map((x) => (
                <tr key={x.name} class={x.state !== 'running' ? 'is-down' : x.restarts ? 'is-warn' : ''}>
                  <td>{x.name}</td>
                  <td>{x.state}</td>
                  <td>{x.restarts}</td>
                  <td>{x.last_error || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
    </div>
  );
}
