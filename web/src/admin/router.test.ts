import { describe, expect, it, vi } from 'vitest';
import { parseRoute, routePath, Router, type Route } from './router';

describe('parseRoute / routePath', () => {
  it.each<[string, Route]>([
    ['/admin', { view: 'queue' }],
    ['/admin/', { view: 'queue' }],
    ['/admin/sessions', { view: 'queue' }],
    ['/admin/sessions/7', { view: 'session', id: 7 }],
    ['/admin/sessions/7/', { view: 'session', id: 7 }],
    ['/admin/settings', { view: 'settings' }],
    ['/admin/knowledge', { view: 'knowledge' }],
    ['/admin/sessions/0', { view: 'queue' }],
    ['/admin/sessions/-1', { view: 'queue' }],
    ['/admin/sessions/abc', { view: 'queue' }],
    ['/admin/sessions/1.5', { view: 'queue' }],
    ['/admin/sessions/99999999999999999999', { view: 'queue' }],
    ['/admin/nope', { view: 'queue' }],
    ['/elsewhere', { view: 'queue' }],
  ])('%s', (path, route) => {
    expect(parseRoute(path)).toEqual(route);
  });

  it('round-trips', () => {
    const routes: Route[] = [{ view: 'queue' }, { view: 'session', id: 42 }, { view: 'settings' }, { view: 'knowledge' }];
    for (const r of routes) expect(parseRoute(routePath(r))).toEqual(r);
    expect(routePath({ view: 'session', id: 42 })).toBe('/admin/sessions/42');
  });
});

/** A fake window: history entries and popstate. */
function fakeWindow(start: string) {
  const entries = [start];
  let index = 0;
  const listeners = new Set<() => void>();
  const location = {
    get pathname() {
      return entries[index]!;
    },
  };
  const history = {
    pushState: vi.fn((_d: unknown, _u: string, url?: string | URL | null) => {
      entries.splice(index + 1, entries.length, String(url));
      index++;
    }),
    replaceState: vi.fn((_d: unknown, _u: string, url?: string | URL | null) => {
      entries[index] = String(url);
    }),
  };
  const events = {
    addEventListener: (_t: 'popstate', fn: () => void) => listeners.add(fn),
    removeEventListener: (_t: 'popstate', fn: () => void) => listeners.delete(fn),
  };
  const go = (delta: number) => {
    index += delta;
    for (const fn of listeners) fn();
  };
  return { entries, location, history, events, go, listeners };
}

describe('Router', () => {
  it('starts from the address and canonicalises an unknown one', () => {
    const w = fakeWindow('/admin/whatever');
    const r = new Router(w.history, w.location, w.events);
    expect(r.route).toEqual({ view: 'queue' });
    expect(w.history.replaceState).toHaveBeenCalledWith(null, '', '/admin');

    const w2 = fakeWindow('/admin/sessions/3');
    const r2 = new Router(w2.history, w2.location, w2.events);
    expect(r2.route).toEqual({ view: 'session', id: 3 });
    expect(w2.history.replaceState).not.toHaveBeenCalled();
  });

  it('pushes history entries and follows back and forward', () => {
    const w = fakeWindow('/admin');
    const r = new Router(w.history, w.location, w.events);
    const seen: Route[] = [];
    r.subscribe((route) => seen.push(route));

    r.navigate({ view: 'session', id: 7 });
    r.navigate({ view: 'settings' });
    r.navigate({ view: 'settings' }); // the same: no new entry
    expect(w.entries).toEqual(['/admin', '/admin/sessions/7', '/admin/settings']);
    expect(w.history.pushState).toHaveBeenCalledTimes(2);

    w.go(-1);
    expect(r.route).toEqual({ view: 'session', id: 7 });
    w.go(-1);
    expect(r.route).toEqual({ view: 'queue' });
    w.go(+2);
    expect(r.route).toEqual({ view: 'settings' });
    expect(seen).toEqual([{ view: 'session', id: 7 }, { view: 'settings' }, { view: 'session', id: 7 }, { view: 'queue' }, { view: 'settings' }]);
  });

  it('replaces instead of pushing when asked, and lets go on dispose', () => {
    const w = fakeWindow('/admin');
    const r = new Router(w.history, w.location, w.events);
    r.navigate({ view: 'knowledge' }, { replace: true });
    expect(w.entries).toEqual(['/admin/knowledge']);
    r.dispose();
    expect(w.listeners.size).toBe(0);
  });
});
