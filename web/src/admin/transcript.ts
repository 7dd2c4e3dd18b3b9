// The transcript of one session as the console sees it: what the first load
// returned, every poll since, and the agent's own replies (which the poll
// returns again). Pure: each function returns a new array and never changes
// its inputs.

import type { Message } from './api';

/** What a message bubble shows: the DOM's data-role. */
export type DisplayRole = 'user' | 'assistant' | 'agent' | 'system';

/**
 * Merges `incoming` into `current`: one entry per id (a later copy replaces
 * an earlier one, so an edited or completed row wins), ordered by id, which
 * is the order the server wrote them. Returns `current` itself when nothing
 * changed, so a view can skip re-rendering.
 */
export function mergeMessages(current: readonly Message[], incoming: readonly Message[]): Message[] {
  if (!incoming.length) return current as Message[];
  const byId = new Map<number, Message>();
  for (const m of current) byId.set(m.id, m);
  let changed = false;
  for (const m of incoming) {
    if (!Number.isInteger(m.id) || m.id <= 0) continue;
    const old = byId.get(m.id);
    if (old && sameMessage(old, m)) continue;
    byId.set(m.id, m);
    changed = true;
  }
  if (!changed) return current as Message[];
  return Array.from(byId.values()).sort((a, b) => a.id - b.id);
}

function sameMessage(a: Message, b: Message): boolean {
  return (
    a.message === b.message &&
    a.role === b.role &&
    a.source === b.source &&
    (a.agent_name ?? null) === (b.agent_name ?? null) &&
    a.created_at === b.created_at
  );
}

/** The highest id in the transcript: the next poll's `after_id` (0 when empty). */
export function lastMessageId(messages: readonly Message[]): number {
  let max = 0;
  for (const m of messages) if (m.id > max) max = m.id;
  return max;
}

export function displayRole(m: Pick<Message, 'role' | 'source' | 'is_user'>): DisplayRole {
  if (m.source === 'system') return 'system';
  if (m.role === 'user' || (m.is_user && m.role !== 'agent' && m.role !== 'assistant')) return 'user';
  if (m.role === 'agent' || m.source === 'agent') return 'agent';
  return 'assistant';
}

/** The label above a bubble. */
export function authorLabel(m: Pick<Message, 'role' | 'source' | 'is_user' | 'agent_name'>): string {
  switch (displayRole(m)) {
    case 'user':
      return 'Customer';
    case 'agent':
      return m.agent_name?.trim() || 'Support agent';
    case 'system':
      return 'Notice';
    case 'assistant':
      return 'Bot';
  }
}
