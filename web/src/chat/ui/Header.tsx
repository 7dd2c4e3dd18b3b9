import type { ConnState } from '../connection';
import type { ThemeChoice } from '../theme';
import { nextThemeChoice } from '../theme';
import { HistoryIcon, LogoMark, MoonIcon, PlusIcon, SunIcon, SystemIcon } from './icons';

const stateLabels: Record<ConnState, string> = {
  connecting: 'Connecting…',
  connected: 'Online',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

const themeLabels: Record<ThemeChoice, string> = { system: 'System', light: 'Light', dark: 'Dark' };

export interface HeaderProps {
  title: string;
  connState: ConnState;
  connLabel?: string;
  theme: ThemeChoice;
  historyOpen: boolean;
  onToggleHistory(): void;
  onNewChat(): void;
  onCycleTheme(): void;
}

export function Header(props: HeaderProps) {
  const next = nextThemeChoice(props.theme);
  const ThemeIcon = props.theme === 'light' ? SunIcon : props.theme === 'dark' ? MoonIcon : SystemIcon;
  return (
    <header class="topbar">
      <div class="topbar-inner">
        <div class="brand">
          <LogoMark />
          <div class="brand-text">
            <h1 class="brand-title">{props.title}</h1>
            <div
              class={`conn conn--${props.connState}`}
              data-testid="connection-state"
              data-state={props.connState}
              role="status"
            >
              <span class="conn-dot" aria-hidden="true" />
              <span class="conn-label">{props.connLabel ?? stateLabels[props.connState]}</span>
            </div>
          </div>
        </div>
        <nav class="topbar-actions" aria-label="Chat actions">
          <button
            type="button"
            class="icon-button"
            data-testid="history-toggle"
            aria-label="Conversation history"
            title="Conversation history"
            aria-expanded={props.historyOpen ? 'true' : 'false'}
            aria-controls="history-panel"
            onClick={props.onToggleHistory}
          >
            <HistoryIcon />
          </button>
          <button
            type="button"
            class="icon-button"
            data-testid="theme-toggle"
            aria-label={`Theme: ${themeLabels[props.theme]}. Switch to ${themeLabels[next]}`}
            title={`Theme: ${themeLabels[props.theme]}`}
            onClick={props.onCycleTheme}
          >
            <ThemeIcon />
          </button>
          <button type="button" class="button button--primary new-chat" data-testid="new-chat" onClick={props.onNewChat}>
            <PlusIcon />
            <span class="new-chat-label">New chat</span>
          </button>
        </nav>
      </div>
    </header>
  );
}
