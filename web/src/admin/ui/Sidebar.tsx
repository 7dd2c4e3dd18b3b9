import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Session, SessionFilter } from '../api';
import { formatAgo, formatDuration, formatFull, preview } from '../format';
import { summarizeHandoff, waitingMs, type HandoffSummary } from '../queue';
import { fetchRecentSessions, type SessionWindow } from '../sessions';
import { useEnv } from './env';
import { usePolling } from './hooks';
import { Link } from './Link';

export const QUEUE_POLL_MS = 3000;
export const SESSIONS_POLL_MS = 4000;
export const SESSIONS_PAGE = 25;
/** A customer waiting longer than this is flagged. */
const LONG_WAIT_MS = 5 * 60_000;

const EMPTY_TEXT: Record<SessionFilter, string> = {
  active: 'No active sessions (handed-off ones are in the queue above).',
  handoff: 'No session is waiting for a human.',
  inactive: 'No closed sessions.',
  all: 'No sessions.',
};

export function Sidebar({ selectedId, onQueueCount }: { selectedId: number | null; onQueueCount: (n: number | null) => void }) {
  return (
    <aside class="sidebar" aria-label="Conversations">
      <HandoffQueue selectedId={selectedId} onCount={onQueueCount} />
      <RecentSessions selectedId={selectedId} />
    </aside>
  );
}

function HandoffQueue({ selectedId, onCount }: { selectedId: number | null; onCount: (n: number | null) => void }) {
  const env = useEnv();
  const [items, setItems] = useState<HandoffSummary[] | null>(null);
  const [now, setNow] = useState(() => env.now());
  const poll = usePolling(
    async (ctx) => {
      const list = await env.api.handoffs(50);
      if (ctx.isStopped()) return;
      const summaries = list.map(summarizeHandoff);
      setItems(summaries);
      setNow(env.now());
      onCount(summaries.length);
    },
    QUEUE_POLL_MS,
    [],
  );
  const count = items?.length ?? 0;
  return (
    <section class={`queue ${count ? 'queue--busy' : ''}`} aria-labelledby="queue-title">
      <header class="panel-head">
        <h2 id="queue-title">Waiting for a human</h2>
        <span class={`count ${count ? 'count--hot' : ''}`} data-testid="handoff-count" aria-label={`${count} waiting`}>
          {items ? count : '…'}
        </span>
      </header>
      <PollError error={poll.error} />
      {items && !items.length ? <p class="muted pad-s">Nobody is waiting. Handed-off conversations appear here.</p> : null}
      {items && items.length ? (
        <ul class="list">
          {items.map((h) => {
            const waited = waitingMs(h, now);
            return (
              <SessionItem
                key={h.id}
                session={h}
                selected={selectedId === h.id}
                variant="item--handoff"
                late={waited > LONG_WAIT_MS}
                testid="handoff-item"
                tag={
                  h.state === 'waiting' ? (
                    <span class="wait" title={h.since ? `waiting since ${formatFull(h.since)}` : undefined}>
                      {formatDuration(waited)}
                    </span>
                  ) : (
                    <span class="wait wait--replied" title={h.since ? `answered ${formatFull(h.since)}` : undefined}>
                      replied {formatAgo(h.since, now)}
                    </span>
                  )
                }
              >
                <span class="item__preview">{h.lastCustomerMessage ? preview(h.lastCustomerMessage, 120) : <em>no message</em>}</span>
                <span class="item__meta">
                  {h.channel}
                  {h.unanswered > 1 && h.state === 'waiting' ? ` · ${h.unanswered} unanswered` : ''}
                </span>
              </SessionItem>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}

function RecentSessions({ selectedId }: { selectedId: number | null }) {
  const env = useEnv();
  const [filter, setFilter] = useState<SessionFilter>('active');
  const [want, setWant] = useState(SESSIONS_PAGE);
  const [data, setData] = useState<(SessionWindow & { filter: SessionFilter }) | null>(null);
  const [now, setNow] = useState(() => env.now());
  const poll = usePolling(
    async (ctx) => {
      const res = await fetchRecentSessions(env.api, filter, want);
      if (ctx.isStopped()) return;
      setData({ ...res, filter });
      setNow(env.now());
    },
    SESSIONS_POLL_MS,
    [filter, want],
  );
  const items: Session[] = data?.items ?? [];
  const stale = data !== null && data.filter !== filter;
  return (
    <section class="recent" aria-labelledby="recent-title">
      <header class="panel-head">
        <h2 id="recent-title">Recent sessions</h2>
        <select
          class="filter"
          aria-label="Which sessions"
          data-testid="session-filter"
          value={filter}
          onChange={(e) => {
            setFilter((e.currentTarget as HTMLSelectElement).value as SessionFilter);
            setWant(SESSIONS_PAGE);
          }}
        >
          <option value="active">Active</option>
          <option value="handoff">Waiting (handoff)</option>
          <option value="inactive">Closed</option>
          <option value="all">All</option>
        </select>
      </header>
      <PollError error={poll.error} />
      <div class={`recent__scroll ${stale ? 'is-stale' : ''}`}>
        {data === null ? <p class="muted pad-s">Loading…</p> : null}
        {data !== null && !items.length && !stale ? (
          <p class="muted pad-s">{EMPTY_TEXT[filter]}</p>
        ) : null}
        <ul class="list">
          {items.map((s) => (
            <SessionItem
              key={s.id}
              session={s}
              selected={selectedId === s.id}
              testid="session-item"
              tag={<span class={`status status--${s.status} status--tiny`}>{s.status}</span>}
            >
              <span class="item__meta">
                {s.channel} · {s.message_count} msg · <span title={formatFull(s.updated_at)}>{formatAgo(s.updated_at, now)}</span>
              </span>
            </SessionItem>
          ))}
        </ul>
        {data && !stale && data.total > items.length ? (
          <button type="button" class="btn btn--ghost btn--block" data-testid="sessions-more" onClick={() => setWant((n) => n + SESSIONS_PAGE)}>
            Load more ({data.total - items.length} more)
          </button>
        ) : null}
      </div>
    </section>
  );
}

function PollError({ error }: { error: string | null }) {
  return error ? (
    <p class="panel-error" role="status">
      {error}; retrying
    </p>
  ) : null;
}

/** A conversation in one of the lists: a link to it with its number, title and `tag` on top, `children` below. */
function SessionItem(props: {
  session: { id: number; title: string };
  selected: boolean;
  /** The list's kind of item (a class). */
  variant?: string;
  /** Waiting too long. */
  late?: boolean;
  testid: string;
  tag: ComponentChildren;
  children: ComponentChildren;
}) {
  const { session, selected } = props;
  return (
    <li>
      <Link
        to={{ view: 'session', id: session.id }}
        class={['item', props.variant, selected && 'item--selected', props.late && 'item--late'].filter(Boolean).join(' ')}
        data-testid={props.testid}
        data-session-id={String(session.id)}
        aria-current={selected ? 'page' : undefined}
      >
        <span class="item__top">
          <span class="item__id">#{session.id}</span>
          <span class={`item__title${session.title ? '' : ' item__title--none'}`} data-testid="session-title" title={session.title || undefined}>
            {session.title || 'Untitled'}
          </span>
          {props.tag}
        </span>
        {props.children}
      </Link>
    </li>
  );
}
