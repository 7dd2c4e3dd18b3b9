import { Component } from 'preact';
import { useRef } from 'preact/hooks';
import { formatFullTime, formatStamp } from '../../shared/time';
import type { ChatMessage } from '../transcript';
import { Markdown } from './Markdown';
import { useReveal } from './useReveal';
import { AlertIcon, CheckIcon, ClockIcon, DoubleCheckIcon, LogoMark, PersonIcon, StopIcon } from './icons';

/** The browser locale's short time, with the day when it was not today (as the console shows it). */
function timeOf(m: ChatMessage): string {
  return formatStamp(m.createdAt, Date.now());
}

function Time({ m }: { m: ChatMessage }) {
  const text = timeOf(m);
  return text ? (
    <time dateTime={m.createdAt} title={formatFullTime(m.createdAt)}>
      {text}
    </time>
  ) : null;
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = Array.from(parts[0] ?? '?')[0] ?? '?';
  const last = parts.length > 1 ? (Array.from(parts[parts.length - 1]!)[0] ?? '') : '';
  return (first + last).toUpperCase();
}

function UserStatus({ m }: { m: ChatMessage }) {
  switch (m.status) {
    case 'pending':
      return (
        <span class="msg-status msg-status--pending" title="Waiting to send">
          <ClockIcon /> <span class="sr-only">Waiting to send</span>
        </span>
      );
    case 'sent':
      return (
        <span class="msg-status" title="Sent">
          <CheckIcon /> <span class="sr-only">Sent</span>
        </span>
      );
    case 'acked':
      return (
        <span class="msg-status msg-status--acked" title="Delivered">
          <DoubleCheckIcon /> <span class="sr-only">Delivered</span>
        </span>
      );
    case 'failed':
      return (
        <span class="msg-status msg-status--failed">
          <AlertIcon /> Not delivered{m.error ? `: ${m.error}` : ''}
        </span>
      );
    default:
      return null;
  }
}

function finishNote(reason: string | undefined): string | null {
  if (reason === 'cancelled') return 'Stopped';
  if (reason === 'interrupted') return 'Answer interrupted';
  return null;
}

export interface MessageProps {
  m: ChatMessage;
  assistantName: string;
}

function MessageView({ m, assistantName }: MessageProps) {
  // An answer seen arriving in this page is revealed smoothly (even when
  // its typing and final frames came in one batch); one loaded from history
  // or storage is shown at once.
  const live = useRef(m.fresh === true).current;
  const shownLength = useReveal(m.text, live);
  const common = {
    'data-testid': 'message',
    'data-role': m.role,
    'data-status': m.status,
    'data-message-id': m.messageId !== undefined ? String(m.messageId) : undefined,
    'data-finish-reason': m.finishReason,
  };

  if (m.role === 'system') {
    return (
      <div {...common} class="msg msg--system">
        <div class="msg-system" data-testid="message-body">
          <span class="sr-only">Notice: </span>
          {m.text}
        </div>
      </div>
    );
  }

  if (m.role === 'user') {
    return (
      <div {...common} data-client-id={m.clientId} class={`msg msg--user msg--${m.status}`}>
        <div class="bubble bubble--user">
          <span class="sr-only">You: </span>
          <div class="msg-body msg-body--plain" data-testid="message-body">
            {m.text}
          </div>
        </div>
        <div class="msg-meta msg-meta--user">
          <Time m={m} />
          <UserStatus m={m} />
        </div>
      </div>
    );
  }

  const revealing = shownLength < m.text.length;
  const streaming = m.status === 'streaming' || revealing;
  const waiting = streaming && shownLength === 0;
  const isAgent = m.role === 'agent';
  const name = isAgent ? m.agentName?.trim() || 'Support agent' : assistantName;
  const note = finishNote(m.finishReason);

  if (m.status === 'done' && m.text.trim() === '' && note) {
    // Stopped (or cut off) before a word of it came: a note, not an empty bubble.
    return (
      <div {...common} class={`msg msg--${m.role} msg--note`}>
        <div class="msg-note msg-note--alone" title={formatFullTime(m.createdAt) || undefined}>
          <StopIcon />
          <span>
            <span class="sr-only">{name}: </span>
            {note}
          </span>
        </div>
      </div>
    );
  }

  return (
    <div
      {...common}
      class={`msg msg--${m.role}${streaming ? ' msg--streaming' : ''}`}
      data-revealing={revealing ? 'true' : undefined}
      aria-busy={streaming ? 'true' : undefined}
    >
      <div class={`avatar${isAgent ? ' avatar--agent' : ''}`} aria-hidden="true">
        {isAgent ? (m.agentName ? <span>{initials(m.agentName)}</span> : <PersonIcon />) : <LogoMark />}
      </div>
      <div class="msg-main">
        <div class="msg-meta">
          {isAgent ? (
            <>
              <span class="agent-name" data-testid="agent-name">
                {name}
              </span>
              <span class="agent-tag">Support team</span>
            </>
          ) : (
            <span class="assistant-name">{name}</span>
          )}
          <Time m={m} />
        </div>
        <div class={`bubble bubble--${m.role}`}>
          {waiting ? (
            <div class="typing" data-testid="typing" role="img" aria-label={`${name} is typing`}>
              <span />
              <span />
              <span />
            </div>
          ) : (
            // A new element once final, so the live region announces the
            // whole answer once instead of every piece of the stream.
            <div
              key={streaming ? 'stream' : 'final'}
              class="msg-body md"
              data-testid="message-body"
              aria-hidden={streaming ? 'true' : undefined}
            >
              <span class="sr-only">{isAgent ? `${name}, support team: ` : `${name}: `}</span>
              <Markdown text={revealing ? m.text.slice(0, shownLength) : m.text} hardBreaks={isAgent} />
            </div>
          )}
        </div>
        {note && <div class="msg-note">{note}</div>}
      </div>
    </div>
  );
}

/** Re-renders only when its message changed (the reducer keeps unchanged ones identical). */
export class Message extends Component<MessageProps> {
  override shouldComponentUpdate(next: MessageProps): boolean {
    return next.m !== this.props.m || next.assistantName !== this.props.assistantName;
  }
  override render() {
    return <MessageView {...this.props} />;
  }
}
