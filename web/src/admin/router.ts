// The console's client-side routes. The server serves admin.html for every
// path under /admin/, so each view has an address of its own that survives a
// reload and works with back and forward.
//
//   /admin                  the queue (no session open)
//   /admin/sessions/{id}    one session
//   /admin/settings         settings
//   /admin/knowledge        the knowledge base

export type Route =
  | { view: 'queue' }
  | { view: 'session'; id: number }
  | { view: 'settings' }
  | { view: 'knowledge' };

export const BASE = '/admin';

/** The route of a path; anything unknown is the queue. */
export function parseRoute(pathname: string): Route {
  let path = pathname;
  try {
    path = decodeURI(pathname);
  } catch {
    /* keep it as it is */
  }
  path = path.replace(/\/+$/, '');
  if (path === BASE || path === '') return { view: 'queue' };
  if (!path.startsWith(`${BASE}/`)) return { view: 'queue' };
  const rest = path.slice(BASE.length + 1).split('/');
  if (rest.length === 1 && rest[0] === 'settings') return { view: 'settings' };
  if (rest.length === 1 && rest[0] === 'knowledge') return { view: 'knowledge' };
  if (rest.length === 1 && rest[0] === 'sessions') return { view: 'queue' };
  if (rest.length === 2 && rest[0] === 'sessions' && /^[1-9][0-9]{0,15}$/.test(rest[1] ?? '')) {
    const id = Number(rest[1]);
    if (Number.isSafeInteger(id)) return { view: 'session', id };
  }
  return { view: 'queue' };
}

export function routePath(route: Route): string {
  switch (route.view) {
    case 'queue':
      return BASE;
    case 'session':
      return `${BASE}/sessions/${route.id}`;
    case 'settings':
      return `${BASE}/settings`;
    case 'knowledge':
      return `${BASE}/knowledge`;
  }
}

export function sameRoute(a: Route, b: Route): boolean {
  return routePath(a) === routePath(b);
}

export interface HistoryLike {
  pushState(data: unknown, unused: string, url?: string | URL | null): void;
  replaceState(data: unknown, unused: string, url?: string | URL | null): void;
}

export interface LocationLike {
  pathname: string;
}

export interface EventSourceLike {
  addEventListener(type: 'popstate', fn: () => void): void;
  removeEventListener(type: 'popstate', fn: () => void): void;
}

/**
 * Keeps the route and the address bar in step: navigate() pushes a history
 * entry, back and forward (popstate) re-read the address. Listeners hear
 * about every change.
 */
export class Router {
  private current: Route;
  private listeners = new Set<(route: Route) => void>();
  private readonly onPop = () => this.sync();

  constructor(
    private readonly history: HistoryLike,
    private readonly location: LocationLike,
    private readonly events: EventSourceLike,
  ) {
    this.current = parseRoute(location.pathname);
    // An unknown /admin/... path shows the queue: say so in the address bar.
    const canonical = routePath(this.current);
    if (canonical !== location.pathname) this.history.replaceState(null, '', canonical);
    events.addEventListener('popstate', this.onPop);
  }

  get route(): Route {
    return this.current;
  }

  navigate(route: Route, options: { replace?: boolean } = {}): void {
    const path = routePath(route);
    if (sameRoute(route, this.current) && path === this.location.pathname) return;
    if (options.replace) this.history.replaceState(null, '', path);
    else this.history.pushState(null, '', path);
    this.set(route);
  }

  subscribe(fn: (route: Route) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  dispose(): void {
    this.events.removeEventListener('popstate', this.onPop);
    this.listeners.clear();
  }

  private sync(): void {
    this.set(parseRoute(this.location.pathname));
  }

  private set(route: Route): void {
    if (sameRoute(route, this.current)) return;
    this.current = route;
    for (const fn of this.listeners) fn(route);
  }
}
