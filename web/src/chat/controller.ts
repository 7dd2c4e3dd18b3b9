// Ties the pieces together without any view: the transcript reducer, the
// connection and the browser storage. The Preact view subscribes to it and
// calls its methods; the tests drive it with a fake socket and store.

import type { ChatConfig } from './config';
import { DEFAULT_CONFIG } from './config';
import type { ChatConnection, ConnState, OutboxItem, ResumeTarget, StateDetail } from './connection';
import type { ServerFrame } from './protocol';
import { utf8Length } from './protocol';
import type { ChatStorage, HistoryEntry, StoredSession } from './storage';
import { fromStored, toStored } from './storage';
import type { TranscriptEvent, TranscriptState } from './transcript';
import { emptyTranscript, generatingReply, reduce, unsentMessages } from './transcript';

export interface AppState {
  transcript: TranscriptState;
  /** Storage key of the conversation shown. */
  recordKey: string;
  /** The conversation shown can no longer be continued (read-only). */
  ended: boolean;
  conn: { state: ConnState; detail: StateDetail };
  /** 4000: another tab has this conversation. */
  replaced: boolean;
  /** A one-off explanation shown above the conversation. */
  notice: string | null;
  config: ChatConfig;
  history: HistoryEntry[];
}

export interface ControllerDeps {
  storage: ChatStorage;
  connection: ChatConnection;
  now(): number;
  /** A random id for this page (client ids and new record keys). */
  pageId: string;
}

export type SendResult = { ok: true; clientId: string } | { ok: false; reason: 'empty' | 'too-long' | 'read-only' };

export const INVALID_RESUME_NOTICE =
  'Your previous conversation could not be reopened, so a new one has started. You can still read the old one under History.';

export class ChatController {
  private state: AppState;
  private readonly listeners = new Set<() => void>();
  private counter = 0;
  private createdAt = 0;
  private readonly storage: ChatStorage;
  private readonly connection: ChatConnection;
  private readonly now: () => number;
  private readonly pageId: string;

  constructor(deps: ControllerDeps) {
    this.storage = deps.storage;
    this.connection = deps.connection;
    this.now = deps.now;
    this.pageId = deps.pageId.replace(/[^A-Za-z0-9]/g, '').slice(0, 16) || 'p';
    this.state = {
      transcript: emptyTranscript(),
      recordKey: this.newKey(),
      ended: false,
      conn: { state: 'connecting', detail: { reason: 'start', attempt: 0, retryAt: null } },
      replaced: false,
      notice: null,
      config: DEFAULT_CONFIG,
      history: [],
    };
    this.connection.setEvents({
      onState: (state, detail) => this.update({ conn: { state, detail } }),
      onFrame: (frame) => this.onFrame(frame),
      onSent: (clientId) => this.dispatch({ type: 'sent', clientId }, false),
      onUnsent: () => this.dispatch({ type: 'unsent' }, false),
      onFailed: (clientId, code, message) => this.dispatch({ type: 'failed', clientId, code, message }, true),
      onInvalidResume: (target) => this.onInvalidResume(target),
      onReplaced: () => this.update({ replaced: true }),
    });
  }

  // -- reading ----------------------------------------------------------------

  getState(): AppState {
    return this.state;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What the browser tests may read (`window.__parley`). */
  snapshot(): { sessionId: number | null; lastSeq: number } {
    return { sessionId: this.state.transcript.sessionId, lastSeq: this.state.transcript.lastSeq };
  }

  // -- life cycle ---------------------------------------------------------------

  /** Shows the conversation this browser was in (at once, from storage) and connects. */
  init(): void {
    const key = this.storage.currentKey();
    const record = key ? this.storage.load(key) : null;
    this.refreshHistory();
    if (!record) {
      this.startNew();
      return;
    }
    this.show(record);
  }

  private show(record: StoredSession): void {
    const transcript = fromStored(record);
    this.createdAt = record.createdAt || this.now();
    this.update({ transcript, recordKey: record.key, ended: record.ended, replaced: false, notice: null });
    this.storage.setCurrentKey(record.key);
    if (record.ended) {
      this.connection.stop();
      return;
    }
    this.connection.start(this.resumeTarget(transcript), unsentMessages(transcript));
  }

  private resumeTarget(t: TranscriptState, lastSeq = t.lastSeq): ResumeTarget | null {
    return t.sessionId !== null && t.resumeToken !== null
      ? { sessionId: t.sessionId, resumeToken: t.resumeToken, lastSeq }
      : null;
  }

  private startNew(carry: TranscriptState['messages'] = [], notice: string | null = null): void {
    const transcript: TranscriptState = { ...emptyTranscript(), messages: carry };
    const recordKey = this.newKey();
    this.createdAt = this.now();
    this.update({ transcript, recordKey, ended: false, replaced: false, notice });
    this.storage.setCurrentKey(recordKey);
    if (carry.length) this.persist();
    this.connection.start(null, unsentMessages(transcript));
  }

  /** "New chat": a new session; the current one stays in the history. */
  newChat(): void {
    this.leaveCurrent();
    this.startNew();
  }

  /** Opens a conversation from the history: resumes it from seq 0 and merges the replay. */
  openSession(sessionId: number): void {
    if (sessionId === this.state.transcript.sessionId && !this.state.replaced) return;
    const entry = this.state.history.find((e) => e.sessionId === sessionId) ??
      this.storage.history().find((e) => e.sessionId === sessionId);
    const record = this.storage.load(String(sessionId));
    if (!record && !entry) return;
    this.leaveCurrent();
    const base: StoredSession = record ?? {
      v: 1,
      key: String(sessionId),
      sessionId,
      resumeToken: entry!.resumeToken,
      lastSeq: 0,
      messages: [],
      handoff: { active: false, agentName: null },
      ended: false,
      createdAt: entry!.createdAt,
      updatedAt: entry!.updatedAt,
    };
    if (!base.resumeToken && entry) base.resumeToken = entry.resumeToken;
    const ended = base.ended || entry?.ended === true;
    const transcript = fromStored(base);
    this.createdAt = base.createdAt || this.now();
    this.update({ transcript, recordKey: base.key, ended, replaced: false, notice: null });
    this.storage.setCurrentKey(base.key);
    if (ended) {
      this.connection.stop();
      return;
    }
    // From seq 0: the local copy may be trimmed or missing; the replay fills
    // it in and the reducer drops what is already there.
    this.connection.start(this.resumeTarget(transcript, 0), unsentMessages(transcript));
  }

  /** After 4000: take the conversation back from the other tab. */
  takeBack(): void {
    if (!this.state.replaced) return;
    // The other tab may have moved on: start from what it stored.
    const stored = this.storage.load(this.state.recordKey);
    let transcript = this.state.transcript;
    if (stored) transcript = reduce(transcript, { type: 'merge', messages: stored.messages, lastSeq: stored.lastSeq });
    this.update({ transcript, replaced: false });
    this.connection.start(this.resumeTarget(transcript), unsentMessages(transcript));
  }

  /** Persists the conversation being left; one without a word from the user is dropped. */
  private leaveCurrent(): void {
    const t = this.state.transcript;
    if (!t.messages.some((m) => m.role === 'user')) this.storage.remove(this.state.recordKey);
    else if (!this.state.replaced) this.persist();
  }

  // -- actions ------------------------------------------------------------------

  send(raw: string): SendResult {
    const text = raw.replace(/\r\n?/g, '\n');
    if (text.trim() === '') return { ok: false, reason: 'empty' };
    if (this.state.ended || this.state.replaced) return { ok: false, reason: 'read-only' };
    const bytes = utf8Length(text);
    const max = this.state.config.maxMessageBytes;
    if (bytes > max) {
      this.dispatch(
        {
          type: 'local-error',
          code: 'message_too_long',
          message: `This message is too long (${formatBytes(bytes)}; the limit is ${formatBytes(max)}). Please shorten it or split it up.`,
        },
        false,
      );
      return { ok: false, reason: 'too-long' };
    }
    const clientId = `c-${this.pageId}-${++this.counter}`;
    this.dispatch({ type: 'local-send', clientId, text, at: new Date(this.now()).toISOString() }, false);
    // Stored before it goes out: a reload from here on still sends it.
    this.persist();
    this.connection.send({ clientId, text } satisfies OutboxItem);
    return { ok: true, clientId };
  }

  /** Stops the answer being generated. */
  stopGenerating(): boolean {
    const g = generatingReply(this.state.transcript);
    if (!g || g.replyTo === null) return false;
    return this.connection.cancel(g.replyTo);
  }

  retryNow(): void {
    this.connection.retryNow();
  }

  setOnline(online: boolean): void {
    this.connection.setOnline(online);
  }

  setConfig(config: ChatConfig): void {
    this.update({ config });
  }

  dismissNotice(): void {
    if (this.state.notice) this.update({ notice: null });
  }

  clearError(): void {
    this.dispatch({ type: 'clear-error' }, false);
  }

  refreshHistory(): void {
    this.update({ history: this.storage.history() });
  }

  // -- events from the connection ---------------------------------------------

  private onFrame(frame: ServerFrame): void {
    const before = this.state.transcript;
    const transcript = reduce(before, { type: 'frame', frame });
    if (transcript === before) return;
    this.update({ transcript });
    if (frame.type === 'session') {
      const oldKey = this.state.recordKey;
      const key = String(frame.session_id);
      if (oldKey !== key) {
        this.update({ recordKey: key });
        this.storage.rename(oldKey, this.record());
        this.refreshHistory();
        return;
      }
    }
    // Streams are not stored (the server resends them): no write per delta.
    if (frame.type === 'delta' || frame.type === 'typing' || frame.type === 'pong') return;
    this.persist();
  }

  private onInvalidResume(target: ResumeTarget): void {
    // Keep the old conversation readable (read-only, in the history) and
    // carry what was never delivered over to the new one: it was never
    // stored in the old session, so nothing doubles.
    const old = this.state.transcript;
    const carry = old.messages.filter(
      (m) => m.role === 'user' && (m.status === 'pending' || m.status === 'sent'),
    ).map((m) => ({ ...m, status: 'pending' as const }));
    const kept = old.messages.filter((m) => !carry.some((c) => c.key === m.key));
    if (kept.some((m) => m.role === 'user')) {
      const record = toStored(this.state.recordKey, { ...old, messages: kept }, {
        ended: true,
        createdAt: this.createdAt,
        updatedAt: this.now(),
      });
      this.storage.save(record);
      this.storage.markEnded(target.sessionId);
    } else {
      this.storage.forget(target.sessionId);
    }
    // The connection goes on to a new session with the same outbox.
    const transcript: TranscriptState = { ...emptyTranscript(), messages: carry };
    const recordKey = this.newKey();
    this.createdAt = this.now();
    this.update({ transcript, recordKey, ended: false, replaced: false, notice: INVALID_RESUME_NOTICE });
    this.storage.setCurrentKey(recordKey);
    if (carry.length) this.persist();
    this.refreshHistory();
  }

  // -- helpers ------------------------------------------------------------------

  private dispatch(event: TranscriptEvent, persist: boolean): void {
    const before = this.state.transcript;
    const transcript = reduce(before, event);
    if (transcript === before) return;
    this.update({ transcript });
    if (persist) this.persist();
  }

  private record(): StoredSession {
    return toStored(this.state.recordKey, this.state.transcript, {
      ended: this.state.ended,
      createdAt: this.createdAt,
      updatedAt: this.now(),
    });
  }

  private persist(): void {
    if (this.state.replaced) return; // the other tab owns the record now
    this.storage.save(this.record());
    if (this.state.transcript.sessionId !== null) this.update({ history: this.storage.history() });
  }

  private newKey(): string {
    return `new-${this.pageId}-${++this.counter}`;
  }

  private update(patch: Partial<AppState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
}
