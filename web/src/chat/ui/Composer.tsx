import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { formatBytes } from '../controller';
import { utf8Length } from '../protocol';
import { SendIcon } from './icons';

export interface ComposerProps {
  /** Returns true when the text was taken (then the box empties). */
  onSend(text: string): boolean;
  maxBytes: number;
  /** Offline or reconnecting: still takes messages (they wait), but looks it. */
  offline: false | 'offline' | 'reconnecting';
  /** Read-only conversation or another tab has it. */
  disabled: boolean;
  disabledReason?: string;
  error: string | null;
  onDismissError(): void;
}

const MAX_ROWS = 6;

export function Composer(props: ComposerProps) {
  const [text, setText] = useState('');
  const ref = useRef<HTMLTextAreaElement>(null);
  const composing = useRef(false);

  // Grow with the text up to about six lines, then scroll.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    const cs = getComputedStyle(el);
    const line = parseFloat(cs.lineHeight) || 22;
    const pad = (parseFloat(cs.paddingTop) || 0) + (parseFloat(cs.paddingBottom) || 0);
    const border = (parseFloat(cs.borderTopWidth) || 0) + (parseFloat(cs.borderBottomWidth) || 0);
    const max = line * MAX_ROWS + pad + border;
    const wanted = el.scrollHeight + border;
    el.style.height = `${Math.min(wanted, max)}px`;
    el.style.overflowY = wanted > max ? 'auto' : 'hidden';
  }, [text]);

  const bytes = text.length > props.maxBytes / 8 ? utf8Length(text) : text.length;
  const near = bytes > props.maxBytes * 0.8;
  const over = bytes > props.maxBytes;
  const empty = text.trim() === '';

  const submit = () => {
    // The element's value, not the state: a click right after input (a test
    // driver, a paste) may come before the re-render.
    const value = ref.current?.value ?? text;
    if (props.disabled || value.trim() === '') return;
    if (props.onSend(value)) {
      setText('');
      if (ref.current) ref.current.value = '';
    }
    ref.current?.focus();
  };

  const placeholder = props.disabled
    ? props.disabledReason ?? 'This conversation is read-only'
    : props.offline === 'offline'
      ? 'You’re offline — messages will be sent when you’re back'
      : props.offline === 'reconnecting'
        ? 'Reconnecting — messages will be sent in a moment'
        : 'Write a message…';

  return (
    <div class={`composer${props.offline ? ' composer--offline' : ''}${props.disabled ? ' composer--disabled' : ''}`}>
      {props.error && (
        <div class="composer-error" data-testid="composer-error" role="alert">
          <span>{props.error}</span>
          <button type="button" class="link-button" onClick={props.onDismissError} aria-label="Dismiss this message">
            Dismiss
          </button>
        </div>
      )}
      <form
        class="composer-form"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <label class="sr-only" for="composer-input">
          Message
        </label>
        <textarea
          id="composer-input"
          ref={ref}
          data-testid="composer-input"
          rows={1}
          value={text}
          placeholder={placeholder}
          disabled={props.disabled}
          aria-invalid={over ? 'true' : undefined}
          aria-describedby={near ? 'composer-count' : undefined}
          enterkeyhint="send"
          onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
          onCompositionStart={() => (composing.current = true)}
          onCompositionEnd={() => (composing.current = false)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !composing.current) {
              e.preventDefault();
              submit();
            }
          }}
        />
        <button
          type="submit"
          class="send-button"
          data-testid="send"
          aria-label="Send message"
          aria-disabled={empty || props.disabled ? 'true' : undefined}
          disabled={props.disabled}
        >
          <SendIcon />
        </button>
      </form>
      <div class="composer-footer">
        <span class="composer-hint">
          <kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line
        </span>
        {near && (
          <span id="composer-count" class={`composer-count${over ? ' composer-count--over' : ''}`}>
            {formatBytes(bytes)} / {formatBytes(props.maxBytes)}
          </span>
        )}
      </div>
    </div>
  );
}
