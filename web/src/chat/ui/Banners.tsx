import type { ComponentChildren } from 'preact';
import { CloseIcon, PersonIcon } from './icons';

function Banner(props: { kind: string; testid?: string; state?: string; children: ComponentChildren; role?: 'status' | 'alert' }) {
  return (
    <div class={`banner banner--${props.kind}`} data-testid={props.testid} data-state={props.state} role={props.role ?? 'status'}>
      <div class="banner-inner">{props.children}</div>
    </div>
  );
}

/**
 * A human has the conversation: from the moment the bot hands it over
 * (`agentName` null: nobody has written yet) and once an agent wrote.
 */
export function HandoffBanner({ agentName }: { agentName: string | null }) {
  return (
    <Banner kind="handoff" testid="handoff-banner" state={agentName ? 'joined' : 'waiting'}>
      <PersonIcon />
      {agentName ? (
        <span>
          <strong>A human agent has joined</strong> — you’re chatting with {agentName}.
        </span>
      ) : (
        <span>
          <strong>Connecting you with a human agent.</strong> Someone from our support team will reply here.
        </span>
      )}
    </Banner>
  );
}

export function ReplacedBanner({ onTakeBack }: { onTakeBack(): void }) {
  return (
    <Banner kind="warning" testid="replaced-banner" role="alert">
      <span>This chat is open in another tab.</span>
      <button type="button" class="button button--small" data-testid="take-back" onClick={onTakeBack}>
        Use it here
      </button>
    </Banner>
  );
}

export function EndedBanner({ onNewChat }: { onNewChat(): void }) {
  return (
    <Banner kind="muted" testid="ended-banner">
      <span>This conversation has ended and can’t be continued.</span>
      <button type="button" class="button button--small" onClick={onNewChat}>
        Start a new chat
      </button>
    </Banner>
  );
}

export function NoticeBanner({ text, onDismiss }: { text: string; onDismiss(): void }) {
  return (
    <Banner kind="info" testid="notice-banner">
      <span>{text}</span>
      <button type="button" class="icon-button icon-button--small" aria-label="Dismiss" onClick={onDismiss}>
        <CloseIcon />
      </button>
    </Banner>
  );
}

export function ConnectionBanner(props: { text: string; onRetry?: () => void }) {
  return (
    <Banner kind="muted" testid="connection-banner">
      <span>{props.text}</span>
      {props.onRetry && (
        <button type="button" class="button button--small" onClick={props.onRetry}>
          Retry now
        </button>
      )}
    </Banner>
  );
}
