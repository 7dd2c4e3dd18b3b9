import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ApiClient } from '../api';
import type { Auth } from '../auth';
import type { Timers } from '../poller';
import type { Route, Router } from '../router';
import type { KeyValue } from '../storage';
import { EnvContext, type Env } from './env';
import { HealthBar } from './HealthBar';
import { useStore } from './hooks';
import { KnowledgeView } from './KnowledgeView';
import { Link } from './Link';
import { SessionView } from './SessionView';
import { SettingsView } from './SettingsView';
import { Sidebar } from './Sidebar';
import { SignIn } from './SignIn';

export interface AppProps {
  auth: Auth;
  api: ApiClient;
  router: Router;
  timers: Timers;
  now: () => number;
  local: KeyValue | null;
  /** The page's document (for its title); none in some tests. */
  doc?: Pick<Document, 'title'> | null;
}

export const TITLE = 'Parley agent console';

export function App(props: AppProps) {
  const { auth, api } = props;
  const state = useStore(auth, () => auth.current);
  if (!state.token) {
    return <SignIn api={api} notice={state.notice} onSignedIn={(token) => auth.signIn(token)} />;
  }
  // Keyed by the token: signing in again starts from a clean slate.
  return <Console key={state.token} {...props} />;
}

function Console({ auth, api, router, timers, now, local, doc }: AppProps) {
  const route = useStore<Route>(router, () => router.route);
  const env = useMemo<Env>(() => ({ api, timers, now, local, navigate: (r) => router.navigate(r), drafts: new Map() }), [api, timers, now, local, router]);
  const [queueCount, setQueueCount] = useState<number | null>(null);
  const selectedId = route.view === 'session' ? route.id : null;

  useEffect(() => {
    if (!doc) return;
    const what = route.view === 'session' ? `#${route.id}` : route.view === 'settings' ? 'Settings' : route.view === 'knowledge' ? 'Knowledge' : null;
    const base = what ? `${what} · ${TITLE}` : TITLE;
    doc.title = queueCount ? `(${queueCount}) ${base}` : base;
  }, [doc, route, queueCount]);

  useEffect(() => () => {
    if (doc) doc.title = TITLE;
  }, [doc]);

  // "Sessions" goes back to the conversation that was open before Settings or Knowledge.
  const lastSession = useLastSession(route);
  const sessionsTo: Route = lastSession !== null ? { view: 'session', id: lastSession } : { view: 'queue' };

  return (
    <EnvContext.Provider value={env}>
      <div class="app">
        <header class="topbar">
          <div class="brand">
            Parley <span class="brand__sub">console</span>
          </div>
          <nav class="tabs" aria-label="Views">
            <Tab to={sessionsTo} active={route.view === 'session' || route.view === 'queue'} testid="nav-sessions">
              Sessions
              {queueCount ? <span class="tab__badge">{queueCount}</span> : null}
            </Tab>
            <Tab to={{ view: 'settings' }} active={route.view === 'settings'} testid="nav-settings">
              Settings
            </Tab>
            <Tab to={{ view: 'knowledge' }} active={route.view === 'knowledge'} testid="nav-knowledge">
              Knowledge
            </Tab>
          </nav>
          <HealthBar />
          <button type="button" class="btn btn--small btn--ghost signout" data-testid="sign-out" onClick={() => auth.signOut()}>
            Sign out
          </button>
        </header>
        {/* On a phone the list and the open view take turns (admin.css). */}
        <div class={`body body--${route.view}`}>
          <Sidebar selectedId={selectedId} onQueueCount={setQueueCount} />
          <main class="main">
            {route.view === 'session' ? <SessionView key={route.id} id={route.id} /> : null}
            {route.view === 'settings' ? <SettingsView /> : null}
            {route.view === 'knowledge' ? <KnowledgeView /> : null}
            {route.view === 'queue' ? <QueueHome count={queueCount} /> : null}
          </main>
        </div>
      </div>
    </EnvContext.Provider>
  );
}

function Tab({ to, active, testid, children }: { to: Route; active: boolean; testid: string; children: ComponentChildren }) {
  return (
    <Link to={to} class={`tab ${active ? 'tab--active' : ''}`} data-testid={testid} aria-current={active ? 'page' : undefined}>
      {children}
    </Link>
  );
}

/** The last session opened, so "Sessions" goes back to it from another tab. */
function useLastSession(route: Route): number | null {
  const [last, setLast] = useState<number | null>(route.view === 'session' ? route.id : null);
  useEffect(() => {
    if (route.view === 'session') setLast(route.id);
    else if (route.view === 'queue') setLast(null);
  }, [route]);
  return route.view === 'session' ? route.id : route.view === 'queue' ? null : last;
}

function QueueHome({ count }: { count: number | null }) {
  return (
    <section class="home">
      <div class="empty">
        <h2>{count ? (count === 1 ? 'One customer is waiting for a human' : `${count} customers are waiting for a human`) : 'No one is waiting'}</h2>
        <p class="muted">
          Pick a conversation on the left. Customers who ask for a person (or whom the bot fails to understand) appear under <em>Waiting for a human</em>;
          your reply reaches them at once, and <em>Release to bot</em> hands the conversation back.
        </p>
      </div>
    </section>
  );
}
