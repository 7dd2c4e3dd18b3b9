import { useEffect, useRef } from 'preact/hooks';
import type { HistoryEntry } from '../storage';
import { formatStamp } from '../../shared/time';
import { CloseIcon, PlusIcon } from './icons';

function when(ms: number): string {
  return formatStamp(ms, Date.now());
}

export interface HistoryPanelProps {
  open: boolean;
  entries: HistoryEntry[];
  currentId: number | null;
  onOpen(sessionId: number): void;
  onNewChat(): void;
  onClose(): void;
}

export function HistoryPanel(props: HistoryPanelProps) {
  const panel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!props.open) return;
    const el = panel.current;
    const first =
      el?.querySelector<HTMLElement>('.history-item[aria-current="true"]') ??
      el?.querySelector<HTMLElement>('.history-item') ??
      el?.querySelector<HTMLElement>('button');
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        props.onClose();
      }
      if (e.key === 'Tab' && el) {
        // Keep focus inside the panel while it is open.
        const items = Array.from(el.querySelectorAll<HTMLElement>('button, [href]')).filter((x) => !x.hasAttribute('disabled'));
        if (!items.length) return;
        const firstItem = items[0]!;
        const lastItem = items[items.length - 1]!;
        if (e.shiftKey && document.activeElement === firstItem) {
          e.preventDefault();
          lastItem.focus();
        } else if (!e.shiftKey && document.activeElement === lastItem) {
          e.preventDefault();
          firstItem.focus();
        }
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [props.open]);

  if (!props.open) return null;
  return (
    <div class="history-layer">
      <div class="history-backdrop" onClick={props.onClose} />
      <div
        id="history-panel"
        ref={panel}
        class="history-panel"
        role="dialog"
        aria-modal="true"
        aria-labelledby="history-title"
      >
        <div class="history-head">
          <h2 id="history-title">Conversations</h2>
          <button type="button" class="icon-button" aria-label="Close history" onClick={props.onClose}>
            <CloseIcon />
          </button>
        </div>
        <button type="button" class="button history-new" onClick={props.onNewChat}>
          <PlusIcon /> New chat
        </button>
        {props.entries.length === 0 ? (
          <p class="history-empty">Your past conversations will appear here.</p>
        ) : (
          <ul class="history-list">
            {props.entries.map((e) => (
              <li key={e.sessionId}>
                <button
                  type="button"
                  class="history-item"
                  data-testid="history-item"
                  data-session-id={String(e.sessionId)}
                  aria-current={e.sessionId === props.currentId ? 'true' : undefined}
                  onClick={() => props.onOpen(e.sessionId)}
                >
                  <span class="history-item-title">{e.title || 'Conversation'}</span>
                  <span class="history-item-meta">
                    {when(e.updatedAt || e.createdAt)}
                    {e.ended ? ' · ended' : ''}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}
