import { Component } from 'preact';
import type { Message } from '../api';
import { formatFull, formatTime } from '../format';
import { authorLabel, displayRole } from '../transcript';
import { Markdown } from './Markdown';

const SOURCE_LABEL: Record<string, string> = {
  llm: 'LLM',
  fallback: 'rules',
  agent: 'human',
  system: 'system',
};

/**
 * One message of a transcript. The customer's text is shown as text, never
 * as markup; the bot's and the agents' are Markdown, sanitised.
 */
function MessageItemImpl({ message, now }: { message: Message; now: number }) {
  const role = displayRole(message);
  const source = message.source ? (SOURCE_LABEL[message.source] ?? message.source) : null;
  const details = [
    `#${message.id}`,
    message.reply_to ? `reply to #${message.reply_to}` : null,
    message.tokens_used ? `${message.tokens_used} tokens` : null,
    message.response_time ? `${message.response_time.toFixed(3)} s` : null,
    message.message_type && message.message_type !== 'text' ? message.message_type : null,
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <article class={`msg msg--${role}`} data-testid="message" data-role={role} data-message-id={String(message.id)}>
      <header class="msg__meta">
        <span class="msg__author">{authorLabel(message)}</span>
        {role === 'assistant' && source ? (
          <span class={`tag tag--source tag--${message.source}`} title={`answered by: ${message.source}`}>
            {source}
          </span>
        ) : null}
        <time class="msg__time" dateTime={message.created_at} title={`${formatFull(message.created_at)} · ${details}`}>
          {formatTime(message.created_at, now)}
        </time>
      </header>
      {role === 'user' ? (
        <div class="msg__body msg__body--text" data-testid="message-body">
          {message.message}
        </div>
      ) : (
        <div class="msg__body" data-testid="message-body">
          <Markdown text={message.message} />
        </div>
      )}
    </article>
  );
}

interface Props {
  message: Message;
  now: number;
}

/** Re-renders only when the message or its shown time changes. */
export class MessageItem extends Component<Props> {
  override shouldComponentUpdate(next: Props): boolean {
    return next.message !== this.props.message || formatTime(next.message.created_at, next.now) !== formatTime(this.props.message.created_at, this.props.now);
  }

  override render() {
    return <MessageItemImpl message={this.props.message} now={this.props.now} />;
  }
}
