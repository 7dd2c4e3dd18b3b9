import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { AppState, ChatController } from '../controller';
import type { ConnState } from '../connection';
import { ErrorCodes } from '../protocol';
import type { ThemeChoice } from '../theme';
import { applyTheme, loadThemeChoice, nextThemeChoice, resolveTheme, saveThemeChoice } from '../theme';
import type { TranscriptError } from '../transcript';
import { generatingReply } from '../transcript';
import { ConnectionBanner, EndedBanner, HandoffBanner, NoticeBanner, ReplacedBanner } from './Banners';
import { Composer } from './Composer';
import { EmptyState } from './EmptyState';
import { Header } from './Header';
import { HistoryPanel } from './HistoryPanel';
import { Message } from './Message';
import { ArrowDownIcon, StopIcon } from './icons';

/** Subscribes to the controller, re-rendering at most once per frame. */
function useControllerState(controller: ChatController): AppState {
  const [state, setState] = useState(controller.getState());
  useEffect(() => {
    let scheduled = false;
    const raf: (cb: () => void) => unknown =
      typeof requestAnimationFrame === 'function' ? requestAnimationFrame : (cb) => setTimeout(cb, 16);
    const unsubscribe = controller.subscribe(() => {
      if (scheduled) return;
      scheduled = true;
      raf(() => {
        scheduled = false;
        setState(controller.getState());
      });
    });
    setState(controller.getState());
    return unsubscribe;
  }, [controller]);
  return state;
}

function useTheme(store: Storage | null): [ThemeChoice, () => void] {
  const [choice, setChoice] = useState<ThemeChoice>(() => loadThemeChoice(store));
  useEffect(() => {
    const mq = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
    const apply = () => applyTheme(resolveTheme(choice, mq?.matches ?? false));
    apply();
    mq?.addEventListener?.('change', apply);
    return () => mq?.removeEventListener?.('change', apply);
  }, [choice]);
  const cycle = useCallback(() => {
    setChoice((c) => {
      const next = nextThemeChoice(c);
      saveThemeChoice(store, next);
      return next;
    });
  }, [store]);
  return [choice, cycle];
}

function errorText(error: TranscriptError | null): string | null {
  if (!error) return null;
  switch (error.code) {
    case ErrorCodes.rateLimited:
    case ErrorCodes.tooManyPending:
      return 'You’re sending messages quickly — yours will go out in a moment.';
    case ErrorCodes.storageUnavailable:
      return 'We couldn’t save your message just now. Trying again…';
    case ErrorCodes.internalError:
      return 'The assistant couldn’t answer right now. Your message is saved and will be answered shortly.';
    case ErrorCodes.shuttingDown:
      return 'The server is restarting. Your message will be sent once we’re reconnected.';
    default:
      return error.message || 'Something went wrong.';
  }
}

function connectionText(state: AppState, now: number): { label?: string; banner: string | null } {
  const { state: cs, detail } = state.conn;
  if (state.replaced) return { label: 'Open in another tab', banner: null };
  if (state.ended) return { label: 'Conversation ended', banner: null };
  const wait = detail.retryAt ? Math.max(1, Math.ceil((detail.retryAt - now) / 1000)) : null;
  if (cs === 'offline') {
    if (detail.reason === 'network') return { banner: 'You’re offline. Messages you write will be sent when you’re back online.' };
    return { banner: `We can’t reach the chat right now.${wait ? ` Trying again in ${wait} s.` : ''}` };
  }
  if (cs === 'reconnecting' && detail.reason === 'busy')
    return { banner: `The chat is busy right now.${wait ? ` Trying again in ${wait} s.` : ''}` };
  return { banner: null };
}

const AT_BOTTOM_PX = 48;

export function App({ controller, themeStore }: { controller: ChatController; themeStore: Storage | null }) {
  const state = useControllerState(controller);
  const [theme, cycleTheme] = useTheme(themeStore);
  const [historyOpen, setHistoryOpen] = useState(false);
  const [atBottom, setAtBottom] = useState(true);
  const [, setTick] = useState(0);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const historyToggle = useRef<HTMLElement | null>(null);

  const { transcript, config } = state;
  const messages = transcript.messages;
  const reduceMotion = typeof matchMedia === 'function' && matchMedia('(prefers-reduced-motion: reduce)').matches;

  useEffect(() => {
    document.title = config.title;
  }, [config.title]);

  // Count down "trying again in N s" while a retry is scheduled.
  useEffect(() => {
    if (!state.conn.detail.retryAt) return;
    const id = setInterval(() => setTick((t) => t + 1), 1000);
    return () => clearInterval(id);
  }, [state.conn.detail.retryAt]);

  const scrollToBottom = useCallback(
    (smooth: boolean) => {
      const el = scroller.current;
      if (!el) return;
      if (smooth && !reduceMotion && typeof el.scrollTo === 'function') el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
      else el.scrollTop = el.scrollHeight;
    },
    [reduceMotion],
  );

  // Follow the conversation while the reader is at the bottom.
  useLayoutEffect(() => {
    if (stick.current) scrollToBottom(false);
  }, [messages, state.notice, state.replaced, transcript.handoff.active, transcript.handoff.agentName, scrollToBottom]);

  // Keep following when the viewport or composer changes size.
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver !== 'function') return;
    const ro = new ResizeObserver(() => {
      if (stick.current) scrollToBottom(false);
    });
    ro.observe(el);
    const inner = el.firstElementChild;
    if (inner) ro.observe(inner);
    return () => ro.disconnect();
  }, [scrollToBottom]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight <= AT_BOTTOM_PX;
    stick.current = bottom;
    if (bottom !== atBottom) setAtBottom(bottom);
  };

  const jump = () => {
    stick.current = true;
    setAtBottom(true);
    scrollToBottom(true);
  };

  const send = (text: string): boolean => {
    const result = controller.send(text);
    if (result.ok) {
      stick.current = true;
      setAtBottom(true);
    }
    return result.ok;
  };

  const closeHistory = () => {
    setHistoryOpen(false);
    historyToggle.current?.focus();
  };

  const generating = generatingReply(transcript);
  const connState: ConnState = state.conn.state;
  const canStop = generating !== null && generating.replyTo !== null && connState === 'connected' && !state.replaced;
  const conn = connectionText(state, Date.now());
  const readOnly = state.ended || state.replaced;
  const isEmpty = messages.length === 0;
  const showJump = !atBottom && !isEmpty;

  return (
    <div class="app">
      <Header
        title={config.title}
        connState={connState}
        connLabel={conn.label}
        theme={theme}
        historyOpen={historyOpen}
        onToggleHistory={() => {
          historyToggle.current = document.activeElement as HTMLElement | null;
          setHistoryOpen((o) => !o);
          controller.refreshHistory();
        }}
        onNewChat={() => {
          controller.newChat();
          setHistoryOpen(false);
          stick.current = true;
          setAtBottom(true);
        }}
        onCycleTheme={cycleTheme}
      />
      <div class="banners">
        {state.replaced && <ReplacedBanner onTakeBack={() => controller.takeBack()} />}
        {state.ended && <EndedBanner onNewChat={() => controller.newChat()} />}
        {!state.replaced && !state.ended && conn.banner && (
          <ConnectionBanner text={conn.banner} onRetry={state.conn.detail.reason !== 'network' ? () => controller.retryNow() : undefined} />
        )}
        {transcript.handoff.active && <HandoffBanner agentName={transcript.handoff.agentName} />}
        {state.notice && <NoticeBanner text={state.notice} onDismiss={() => controller.dismissNotice()} />}
      </div>
      <main class="scroller" ref={scroller} onScroll={onScroll} tabIndex={-1}>
        <div class="column">
          {isEmpty && (
            <EmptyState
              title={config.title}
              greeting={config.greeting}
              suggestions={config.suggestions}
              disabled={readOnly}
              onPick={(text) => send(text)}
            />
          )}
          <div
            class="message-list"
            data-testid="message-list"
            role="log"
            aria-live="polite"
            aria-relevant="additions"
            aria-label="Conversation"
          >
            {messages.map((m) => (
              <Message key={m.key} m={m} assistantName={config.title} />
            ))}
          </div>
        </div>
      </main>
      <footer class="dock">
        <div class="column dock-inner">
          <div class="dock-float">
            {showJump && (
              <button type="button" class="pill jump" data-testid="jump-latest" onClick={jump}>
                <ArrowDownIcon /> Jump to latest
              </button>
            )}
            {canStop && (
              <button
                type="button"
                class="pill stop"
                data-testid="stop"
                aria-label="Stop generating the answer"
                onClick={() => controller.stopGenerating()}
              >
                <StopIcon /> Stop
              </button>
            )}
          </div>
          <Composer
            onSend={send}
            maxBytes={config.maxMessageBytes}
            offline={!readOnly && (connState === 'offline' || connState === 'reconnecting') ? connState : false}
            disabled={readOnly}
            disabledReason={state.replaced ? 'This chat is open in another tab' : 'This conversation has ended'}
            error={errorText(transcript.error)}
            onDismissError={() => controller.clearError()}
          />
        </div>
      </footer>
      <HistoryPanel
        open={historyOpen}
        entries={state.history}
        currentId={transcript.sessionId}
        onOpen={(id) => {
          controller.openSession(id);
          setHistoryOpen(false);
          stick.current = true;
          setAtBottom(true);
        }}
        onNewChat={() => {
          controller.newChat();
          setHistoryOpen(false);
        }}
        onClose={closeHistory}
      />
    </div>
  );
}
