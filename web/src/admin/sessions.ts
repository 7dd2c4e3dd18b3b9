// The recent-sessions list: the first `count` sessions of a filter, newest
// first, fetched in as few requests as the API allows (100 a page).

import type { ApiClient, Session, SessionFilter } from './api';

export const MAX_PAGE = 100;

export interface SessionWindow {
  items: Session[];
  total: number;
}

export async function fetchRecentSessions(api: Pick<ApiClient, 'sessions'>, filter: SessionFilter, count: number): Promise<SessionWindow> {
  const want = Math.max(1, Math.floor(count));
  if (want <= MAX_PAGE) {
    const page = await api.sessions({ status: filter, limit: want, page: 1 });
    return { items: page.items, total: page.pagination.total };
  }
  const items: Session[] = [];
  const seen = new Set<number>();
  let total = 0;
  for (let page = 1; items.length < want; page++) {
    const res = await api.sessions({ status: filter, limit: MAX_PAGE, page });
    total = res.pagination.total;
    // The list moves while we read it (a session updated between two pages
    // comes up front): skip what we already have.
    for (const s of res.items) {
      if (seen.has(s.id)) continue;
      seen.add(s.id);
      items.push(s);
    }
    if (res.items.length < MAX_PAGE || page >= res.pagination.pages) break;
  }
  return { items: items.slice(0, want), total };
}
