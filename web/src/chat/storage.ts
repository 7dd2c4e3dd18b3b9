// What the browser keeps: the conversation in progress (so a reload shows it
// at once and resumes where it stopped) and a short history of this
// browser's conversations. Every session has its own key, so two tabs on two
// conversations never overwrite each other; the history list is re-read
// before every write.

import type { ChatMessage, HandoffState, TranscriptState } from './transcript';
import { emptyTranscript, titleOf } from './transcript';

export const STORAGE_PREFIX = 'parley.v1.';
const CURRENT_KEY = `${STORAGE_PREFIX}current`;
const HISTORY_KEY = `${STORAGE_PREFIX}history`;
const sessionKey = (key: string) => `${STORAGE_PREFIX}session.${key}`;

export const HISTORY_LIMIT = 30;
/** Messages kept per conversation; the server can replay older ones. */
export const MESSAGE_LIMIT = 400;

/** The part of `Storage` we use (injected: localStorage, or a fake). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface StoredSession {
  v: 1;
  /** `String(sessionId)`, or `new-…` until the server has named the session. */
  key: string;
  sessionId: number | null;
  resumeToken: string | null;
  lastSeq: number;
  messages: ChatMessage[];
  handoff: HandoffState;
  /** The server refused to resume it (1008): readable, not writable. */
  ended: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface HistoryEntry {
  sessionId: number;
  resumeToken: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  ended?: boolean;
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const validStatuses = new Set(['pending', 'sent', 'acked', 'failed', 'done']);
const validRoles = new Set(['user', 'assistant', 'agent', 'system']);

function cleanMessage(raw: unknown): ChatMessage | null {
  if (!isObj(raw)) return null;
  if (typeof raw.key !== 'string' || typeof raw.text !== 'string') return null;
  if (typeof raw.role !== 'string' || !validRoles.has(raw.role)) return null;
  if (typeof raw.status !== 'string' || !validStatuses.has(raw.status)) return null;
  const m = { ...raw } as unknown as ChatMessage;
  // A message that was on a socket when the page went away is pending again.
  if (m.status === 'sent') m.status = 'pending';
  delete m.pieces;
  delete m.stale;
  delete m.fresh;
  return m;
}

function cleanSession(raw: unknown): StoredSession | null {
  if (!isObj(raw) || raw.v !== 1 || typeof raw.key !== 'string') return null;
  const sessionId = typeof raw.sessionId === 'number' && raw.sessionId > 0 ? raw.sessionId : null;
  const resumeToken = typeof raw.resumeToken === 'string' && raw.resumeToken ? raw.resumeToken : null;
  const messages = Array.isArray(raw.messages)
    ? raw.messages.map(cleanMessage).filter((m): m is ChatMessage => m !== null)
    : [];
  const handoff = isObj(raw.handoff)
    ? { active: raw.handoff.active === true, agentName: typeof raw.handoff.agentName === 'string' ? raw.handoff.agentName : null }
    : { active: false, agentName: null };
  return {
    v: 1,
    key: raw.key,
    sessionId,
    resumeToken,
    lastSeq: typeof raw.lastSeq === 'number' && raw.lastSeq >= 0 ? raw.lastSeq : 0,
    messages,
    handoff,
    ended: raw.ended === true,
    createdAt: typeof raw.createdAt === 'number' ? raw.createdAt : 0,
    updatedAt: typeof raw.updatedAt === 'number' ? raw.updatedAt : 0,
  };
}

function cleanHistory(raw: unknown): HistoryEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: HistoryEntry[] = [];
  for (const e of raw) {
    if (!isObj(e) || typeof e.sessionId !== 'number' || typeof e.resumeToken !== 'string') continue;
    out.push({
      sessionId: e.sessionId,
      resumeToken: e.resumeToken,
      title: typeof e.title === 'string' ? e.title : '',
      createdAt: typeof e.createdAt === 'number' ? e.createdAt : 0,
      updatedAt: typeof e.updatedAt === 'number' ? e.updatedAt : 0,
      ...(e.ended === true ? { ended: true } : {}),
    });
  }
  return out;
}

/** Builds the record to store from a transcript (streams are left out: the server resends them). */
export function toStored(
  key: string,
  t: TranscriptState,
  meta: { ended: boolean; createdAt: number; updatedAt: number },
): StoredSession {
  const messages = t.messages
    .filter((m) => m.status !== 'streaming')
    .slice(-MESSAGE_LIMIT)
    .map((m) => {
      const copy = { ...m };
      delete copy.pieces;
      delete copy.stale;
      delete copy.fresh;
      return copy;
    });
  return {
    v: 1,
    key,
    sessionId: t.sessionId,
    resumeToken: t.resumeToken,
    lastSeq: t.lastSeq,
    messages,
    handoff: t.handoff,
    ended: meta.ended,
    createdAt: meta.createdAt,
    updatedAt: meta.updatedAt,
  };
}

/** A transcript to show for a stored record. */
export function fromStored(s: StoredSession): TranscriptState {
  return {
    ...emptyTranscript(),
    sessionId: s.sessionId,
    resumeToken: s.resumeToken,
    lastSeq: s.lastSeq,
    messages: s.messages,
    handoff: s.handoff,
  };
}

export class ChatStorage {
  constructor(private readonly store: KeyValueStore) {}

  private read(key: string): unknown {
    try {
      return parseJson(this.store.getItem(key));
    } catch {
      return null; // storage disabled (privacy mode, sandboxed frame)
    }
  }

  /** Writes; on a full store, drops the oldest conversations' transcripts and tries again. */
  private write(key: string, value: unknown): boolean {
    const text = JSON.stringify(value);
    for (let tries = 0; tries < 5; tries++) {
      try {
        this.store.setItem(key, text);
        return true;
      } catch {
        if (!this.evictOldest(key)) return false;
      }
    }
    return false;
  }

  private evictOldest(keep: string): boolean {
    const history = this.history();
    for (let i = history.length - 1; i >= 0; i--) {
      const k = sessionKey(String(history[i]!.sessionId));
      if (k === keep) continue;
      if (this.store.getItem(k) !== null) {
        this.store.removeItem(k);
        return true;
      }
    }
    return false;
  }

  currentKey(): string | null {
    try {
      const v = this.store.getItem(CURRENT_KEY);
      return v && /^(new-[A-Za-z0-9-]+|\d+)$/.test(v) ? v : null;
    } catch {
      return null;
    }
  }

  setCurrentKey(key: string): void {
    try {
      this.store.setItem(CURRENT_KEY, key);
    } catch {
      /* storage unavailable: the page still works, it just forgets */
    }
  }

  load(key: string): StoredSession | null {
    const s = cleanSession(this.read(sessionKey(key)));
    return s && s.key === key ? s : null;
  }

  /**
   * Stores a conversation and, once the server has named it and it has a
   * user message, its history entry (title = first user message).
   */
  save(record: StoredSession): boolean {
    const ok = this.write(sessionKey(record.key), record);
    if (record.sessionId !== null && record.resumeToken !== null) {
      const title = titleOf(record);
      if (title) this.upsertHistory({
        sessionId: record.sessionId,
        resumeToken: record.resumeToken,
        title,
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
        ...(record.ended ? { ended: true } : {}),
      });
    }
    return ok;
  }

  /** A `new-…` record got its session id: store it under the id and drop the old key. */
  rename(oldKey: string, record: StoredSession): boolean {
    const ok = this.save(record);
    if (ok && oldKey !== record.key) {
      try {
        this.store.removeItem(sessionKey(oldKey));
        if (this.currentKey() === oldKey) this.setCurrentKey(record.key);
      } catch {
        /* ignore */
      }
    }
    return ok;
  }

  remove(key: string): void {
    try {
      this.store.removeItem(sessionKey(key));
    } catch {
      /* ignore */
    }
  }

  history(): HistoryEntry[] {
    return cleanHistory(this.read(HISTORY_KEY));
  }

  private upsertHistory(entry: HistoryEntry): void {
    const all = this.history();
    const old = all.find((e) => e.sessionId === entry.sessionId);
    const list = all.filter((e) => e.sessionId !== entry.sessionId);
    const merged: HistoryEntry = old
      ? { ...entry, createdAt: old.createdAt || entry.createdAt, title: old.title || entry.title }
      : entry;
    list.unshift(merged);
    list.sort((a, b) => b.updatedAt - a.updatedAt);
    const kept = list.slice(0, HISTORY_LIMIT);
    for (const dropped of list.slice(HISTORY_LIMIT)) this.remove(String(dropped.sessionId));
    this.write(HISTORY_KEY, kept);
  }

  markEnded(sessionId: number): void {
    const list = this.history().map((e) => (e.sessionId === sessionId ? { ...e, ended: true } : e));
    this.write(HISTORY_KEY, list);
  }

  forget(sessionId: number): void {
    this.write(
      HISTORY_KEY,
      this.history().filter((e) => e.sessionId !== sessionId),
    );
    this.remove(String(sessionId));
  }
}

/** An in-memory store for tests and for browsers without localStorage. */
export class MemoryStore implements KeyValueStore {
  readonly map = new Map<string, string>();
  constructor(private readonly quotaBytes = Infinity) {}
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    let size = value.length;
    for (const [k, v] of this.map) if (k !== key) size += v.length;
    if (size > this.quotaBytes) throw new DOMException('quota exceeded', 'QuotaExceededError');
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}
