import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Message } from '../api';
import { formatAgo, formatFull, formatTime } from '../format';
import { SessionController, type SessionState } from '../session';
import { loadAgentName, saveAgentName } from '../storage';
import { useEnv } from './env';
import { useStore } from './hooks';
import { Link } from './Link';
import { MessageItem } from './MessageItem';

/** The open session: header, transcript (live), reply box. Mount with key={id}. */
export function SessionView({ id }: { id: number }) {
  const env = useEnv();
  const controller = useMemo(() => new SessionController(env.api, id, env.timers), [env.api, env.timers, id]);
  useEffect(() => {
    controller.start();
    return () => controller.stop();
  }, [controller]);
  const state = useStore(controller, () => controller.state);
  const [follow, setFollow] = useState(0);
  const now = env.now();

  if (state.loadError) {
    return (
      <section class="session session--missing">
        <div class="empty">
          <h2>Session {id}</h2>
          <p class="error" role="alert">
            {state.loadError}
          </p>
        </div>
      </section>
    );
  }

  return (
    <section class="session" aria-label={`Session ${id}`}>
      <SessionHeader state={state} controller={controller} now={now} />
      {state.pollError ? (
        <div class="banner banner--warn" role="status">
          Updates paused: {state.pollError}. Retrying…
        </div>
      ) : null}
      <Transcript messages={state.messages} loading={state.loading} now={now} follow={follow} />
      <ReplyBox state={state} controller={controller} onSent={() => setFollow((n) => n + 1)} />
    </section>
  );
}

function SessionHeader({ state, controller, now }: { state: SessionState; controller: SessionController; now: number }) {
  const s = state.session;
  const [confirmClose, setConfirmClose] = useState(false);
  const status = s?.status ?? '';
  const customer = state.user ? `${state.user.name} <${state.user.email}>` : s?.user_id ? `user ${s.user_id}` : 'anonymous';
  return (
    <header class="session-head">
      <div class="session-head__main">
        <Link to={{ view: 'queue' }} class="back-link" data-testid="back-to-list" aria-label="Back to the sessions">
          ‹
        </Link>
        <h2 class="session-head__title" title={s?.title || undefined}>
          <span class="session-head__id">#{state.id}</span>{' '}
          <span data-testid="session-title" class={s?.title ? undefined : 'session-head__untitled'}>
            {s ? s.title || 'Untitled conversation' : 'Loading…'}
          </span>
        </h2>
        {s ? (
          <span class={`status status--${status}`} data-testid="session-status">
            {status}
          </span>
        ) : null}
      </div>
      {s ? (
        <dl class="facts">
          <div>
            <dt>Customer</dt>
            <dd>{customer}</dd>
          </div>
          <div>
            <dt>Channel</dt>
            <dd>{s.channel}</dd>
          </div>
          <div>
            <dt>Messages</dt>
            <dd>{s.message_count}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd title={formatFull(s.created_at)}>{formatTime(s.created_at, now)}</dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd title={formatFull(s.updated_at)}>{formatAgo(s.updated_at, now)}</dd>
          </div>
        </dl>
      ) : null}
      {s ? (
        <div class="session-head__actions">
          {status === 'inactive' ? (
            <button type="button" class="btn btn--small" disabled={state.busy !== null} onClick={() => void controller.setStatus('active')} data-testid="reopen">
              {state.busy === 'reopen' ? 'Reopening…' : 'Reopen'}
            </button>
          ) : confirmClose ? (
            <span class="confirm">
              <span>Close this session?</span>
              <button
                type="button"
                class="btn btn--small btn--danger"
                disabled={state.busy !== null}
                data-testid="close-confirm"
                onClick={() => {
                  setConfirmClose(false);
                  void controller.setStatus('inactive');
                }}
              >
                Close it
              </button>
              <button type="button" class="btn btn--small btn--ghost" onClick={() => setConfirmClose(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <button type="button" class="btn btn--small btn--ghost" disabled={state.busy !== null} data-testid="close-session" onClick={() => setConfirmClose(true)}>
              {state.busy === 'close' ? 'Closing…' : 'Close session'}
            </button>
          )}
        </div>
      ) : null}
    </header>
  );
}

const NEAR_BOTTOM_PX = 48;

function Transcript({ messages, loading, now, follow }: { messages: Message[]; loading: boolean; now: number; follow: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const shown = useRef(0);
  const [unseen, setUnseen] = useState(0);

  const toBottom = () => {
    const el = ref.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setUnseen(0);
  };

  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (atBottom.current) setUnseen(0);
  };

  // New messages: follow them when the reader was at the bottom, otherwise
  // count them on the "new messages" button.
  useLayoutEffect(() => {
    const added = messages.length - shown.current;
    shown.current = messages.length;
    if (added <= 0) return;
    if (atBottom.current) toBottom();
    else setUnseen((n) => n + added);
  }, [messages]);

  // The agent sent something: show it.
  useLayoutEffect(() => {
    if (follow > 0) toBottom();
  }, [follow]);

  return (
    <div class="transcript-wrap">
      <div class="transcript" data-testid="transcript" ref={ref} onScroll={onScroll} aria-live="polite" aria-busy={loading}>
        {loading && !messages.length ? <p class="muted pad">Loading the conversation…</p> : null}
        {!loading && !messages.length ? <p class="muted pad">No messages yet.</p> : null}
        {messages.map((m) => (
          <MessageItem key={m.id} message={m} now={now} />
        ))}
      </div>
      {unseen > 0 ? (
        <button type="button" class="jump" onClick={toBottom}>
          {unseen === 1 ? '1 new message' : `${unseen} new messages`} ↓
        </button>
      ) : null}
    </div>
  );
}

function ReplyBox({ state, controller, onSent }: { state: SessionState; controller: SessionController; onSent: () => void }) {
  const env = useEnv();
  const [name, setName] = useState(() => loadAgentName(env.local));
  const [text, setText] = useState(() => env.drafts.get(state.id) ?? '');
  const handedOff = state.session?.status === 'handoff';

  const updateText = (value: string) => {
    setText(value);
    if (value) env.drafts.set(state.id, value);
    else env.drafts.delete(state.id);
  };

  const submit = async () => {
    const sent = text;
    if (!sent.trim() || state.sending) return;
    const ok = await controller.send(sent, name);
    if (ok) {
      setText((cur) => {
        const next = cur === sent ? '' : cur;
        if (next) env.drafts.set(state.id, next);
        else env.drafts.delete(state.id);
        return next;
      });
      onSent();
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Enter' || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey || e.isComposing) return;
    e.preventDefault();
    void submit();
  };

  return (
    <form
      class="reply"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div class="reply__bar">
        <label class="reply__name">
          <span>Reply as</span>
          <input
            type="text"
            data-testid="agent-name-input"
            value={name}
            placeholder="Support agent"
            maxLength={80}
            autoComplete="off"
            onInput={(e) => {
              const v = (e.currentTarget as HTMLInputElement).value;
              setName(v);
              saveAgentName(env.local, v);
            }}
          />
        </label>
        <span class="reply__hint">
          {handedOff ? 'The bot is paused: the customer is waiting for a human.' : 'Replying hands the session to you: the bot stops answering.'}
        </span>
        {/* Only a handed-off session can go back to the bot (the server says 409 otherwise). */}
        <button
          type="button"
          class={`btn btn--small ${handedOff ? '' : 'btn--ghost'}`}
          data-testid="release"
          disabled={!handedOff || state.busy !== null}
          title={handedOff ? 'Hand the conversation back to the bot' : 'The bot already answers this conversation'}
          onClick={() => void controller.release()}
        >
          {state.busy === 'release' ? 'Releasing…' : 'Release to bot'}
        </button>
      </div>
      <div class="reply__row">
        <textarea
          data-testid="reply-input"
          rows={3}
          value={text}
          placeholder="Write a reply… (Enter sends, Shift+Enter for a new line; Markdown works)"
          aria-label="Reply to the customer"
          onInput={(e) => updateText((e.currentTarget as HTMLTextAreaElement).value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" class="btn btn--primary" data-testid="reply-send" disabled={state.sending || !text.trim()}>
          {state.sending ? 'Sending…' : 'Send'}
        </button>
      </div>
      {state.actionError ? (
        <p class="reply__error" data-testid="reply-error" role="alert">
          {state.actionError}
        </p>
      ) : state.actionNotice ? (
        <p class="reply__notice" role="status">
          {state.actionNotice}
        </p>
      ) : null}
    </form>
  );
}
