// The chat socket as a state machine: connect, resume, keep alive, back off,
// and deliver every queued message exactly once (the server deduplicates by
// client id, so "at least once, same id" is exactly once).
//
// Everything with side effects is injected (the WebSocket factory, the clock
// and its timers, randomness, the online flag), so the tests drive it with
// fakes and no real time passes.

import type { ErrorFrame, ServerFrame } from './protocol';
import { CloseCodes, ErrorCodes, encodeClientFrame, parseServerFrame } from './protocol';

export type ConnState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export type StateReason =
  | 'start'
  | 'session'
  | 'retrying'
  | 'network' // navigator.onLine is false
  | 'failures' // many attempts in a row failed
  | 'busy' // 1013: the server is overloaded or its database is down
  | 'replaced' // 4000: the conversation went to another tab
  | 'stopped';

export interface StateDetail {
  reason: StateReason;
  /** Consecutive failed attempts. */
  attempt: number;
  /** When the next attempt is due (clock time), if one is scheduled. */
  retryAt: number | null;
}

/** The part of the browser's WebSocket the connection uses. */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: never) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: never) => void) | null;
}

export type TimerHandle = unknown;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface ResumeTarget {
  sessionId: number;
  resumeToken: string;
  lastSeq: number;
}

export interface OutboxItem {
  clientId: string;
  text: string;
}

export interface ConnectionOptions {
  createSocket(url: string): SocketLike;
  buildUrl(resume: ResumeTarget | null): string;
  clock: Clock;
  random(): number;
  isOnline?(): boolean;
  /** First reconnect delay; doubles per failure up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** After 1013 (server busy) the delays start and end higher. */
  busyBaseDelayMs?: number;
  busyMaxDelayMs?: number;
  /** Storage retries (`storage_unavailable`). */
  storageBaseDelayMs?: number;
  storageMaxDelayMs?: number;
  /** A ping after this long without a frame from the server... */
  pingIntervalMs?: number;
  /** ...and the socket counts as dead without a frame this long after it. */
  pongTimeoutMs?: number;
  /** An open socket must greet us (`session`) within this time. */
  handshakeTimeoutMs?: number;
  /** Show "offline" after this many failed attempts in a row. */
  offlineAfterFailures?: number;
}

export interface ConnectionEvents {
  onState?(state: ConnState, detail: StateDetail): void;
  /** Every frame that is not a duplicate by seq, in order (including `session`). */
  onFrame?(frame: ServerFrame): void;
  /** A queued message was written to the socket. */
  onSent?(clientId: string): void;
  /** The socket went away: messages written to it but not acknowledged are queued again. */
  onUnsent?(): void;
  /** The server refused a message for good (too long, empty, malformed). */
  onFailed?(clientId: string, code: string, message: string): void;
  /**
   * The server refused to resume `target` (1008). The connection has already
   * moved on to a new session, keeping its outbox.
   */
  onInvalidResume?(target: ResumeTarget): void;
  /** 4000: another tab took the conversation. No reconnect until `start()` again. */
  onReplaced?(): void;
}

interface QueuedItem extends OutboxItem {
  inFlight: boolean;
  notBefore: number;
}

/** Exponential backoff with "equal jitter": half fixed, half random. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (exp / 2) * random());
}

export class ChatConnection {
  private readonly o: Required<Omit<ConnectionOptions, 'isOnline'>> & Pick<ConnectionOptions, 'isOnline'>;
  private events: ConnectionEvents;

  private target: ResumeTarget | null = null;
  private lastSeq = 0;
  private watermark = 0;
  private socket: SocketLike | null = null;
  private generation = 0;
  private greeted = false;
  private attempt = 0;
  private busyStreak = 0;
  private storageStreak = 0;
  private everConnected = false;
  private running = false;
  private replaced = false;
  private online = true;
  private busy = false;
  private state: ConnState = 'offline';
  private detail: StateDetail = { reason: 'stopped', attempt: 0, retryAt: null };
  private outbox: QueuedItem[] = [];
  private pausedUntil = 0;

  private retryTimer: TimerHandle | null = null;
  private flushTimer: TimerHandle | null = null;
  private flushAt = 0;
  private handshakeTimer: TimerHandle | null = null;
  private pingTimer: TimerHandle | null = null;
  private pongTimer: TimerHandle | null = null;
  private lastReceived = 0;

  constructor(options: ConnectionOptions, events: ConnectionEvents = {}) {
    this.o = {
      baseDelayMs: 500,
      maxDelayMs: 15_000,
      busyBaseDelayMs: 5_000,
      busyMaxDelayMs: 60_000,
      storageBaseDelayMs: 1_000,
      storageMaxDelayMs: 15_000,
      pingIntervalMs: 25_000,
      pongTimeoutMs: 10_000,
      handshakeTimeoutMs: 10_000,
      offlineAfterFailures: 5,
      ...options,
    };
    this.events = events;
    this.online = options.isOnline ? options.isOnline() : true;
  }

  setEvents(events: ConnectionEvents): void {
    this.events = events;
  }

  // -- public API -------------------------------------------------------------

  /**
   * Connects to `target` (resume) or to a new session (null), with `outbox`
   * as the messages still to deliver. Drops any current socket.
   */
  start(target: ResumeTarget | null, outbox: readonly OutboxItem[] = []): void {
    this.dropSocket(CloseCodes.normal);
    this.clearTimer('retryTimer');
    this.clearTimer('flushTimer');
    this.target = target ? { ...target } : null;
    this.lastSeq = target ? Math.max(0, target.lastSeq) : 0;
    this.outbox = outbox.map((i) => ({ clientId: i.clientId, text: i.text, inFlight: false, notBefore: 0 }));
    this.pausedUntil = 0;
    this.running = true;
    this.replaced = false;
    this.everConnected = false;
    this.attempt = 0;
    this.busyStreak = 0;
    this.storageStreak = 0;
    this.open();
  }

  /** Closes the socket and stays closed (e.g. a read-only conversation is shown). */
  stop(): void {
    this.running = false;
    this.dropSocket(CloseCodes.normal);
    this.clearAllTimers();
    this.setState('offline', 'stopped', null);
  }

  /** Queues a message; it is sent now if the session is attached. */
  send(item: OutboxItem): void {
    if (this.outbox.some((i) => i.clientId === item.clientId)) return;
    this.outbox.push({ clientId: item.clientId, text: item.text, inFlight: false, notBefore: 0 });
    this.flush();
  }

  /** Asks the server to stop the answer to message `replyTo`. */
  cancel(replyTo: number): boolean {
    if (!this.greeted || !this.socket || !(replyTo > 0)) return false;
    return this.write({ type: 'cancel', reply_to: replyTo });
  }

  /** Connect now instead of waiting for the backoff timer. */
  retryNow(): void {
    if (!this.running || this.replaced || this.socket) return;
    this.clearTimer('retryTimer');
    this.open();
  }

  /** The browser's online/offline events. */
  setOnline(online: boolean): void {
    const was = this.online;
    this.online = online;
    if (!this.running || this.replaced) return;
    if (!online) {
      if (!this.socket) this.waitForNetwork();
      // An open socket may well still work; if not, its close brings us here.
      return;
    }
    if (!was && !this.socket) {
      this.clearTimer('retryTimer');
      this.attempt = 0;
      this.open();
    }
  }

  snapshot(): { sessionId: number | null; lastSeq: number; state: ConnState } {
    return { sessionId: this.target?.sessionId ?? null, lastSeq: this.lastSeq, state: this.state };
  }

  get connectionState(): ConnState {
    return this.state;
  }

  get stateDetail(): StateDetail {
    return this.detail;
  }

  /** Client ids still waiting for their ack, in order. */
  pending(): string[] {
    return this.outbox.map((i) => i.clientId);
  }

  // -- the socket -------------------------------------------------------------

  /** `probe`: try even though the browser says it is offline (it can be wrong). */
  private open(probe = false): void {
    if (!this.running || this.replaced) return;
    this.clearTimer('retryTimer');
    if (!this.online && !probe) {
      this.waitForNetwork();
      return;
    }
    const resume = this.target ? { ...this.target, lastSeq: this.lastSeq } : null;
    this.watermark = resume ? resume.lastSeq : 0;
    this.greeted = false;
    const gen = ++this.generation;
    if (this.online) this.setState(this.attemptState(), this.attempt === 0 ? 'start' : 'retrying', null);
    let socket: SocketLike;
    try {
      socket = this.o.createSocket(this.o.buildUrl(resume));
    } catch {
      this.afterClose(CloseCodes.normal, false);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      /* the server speaks first: wait for `session` */
    };
    socket.onmessage = (ev) => {
      if (gen === this.generation) this.receive(ev.data);
    };
    socket.onerror = () => {
      /* a close follows */
    };
    socket.onclose = (ev) => {
      if (gen !== this.generation) return;
      this.onSocketClosed(ev.code);
    };
    this.handshakeTimer = this.o.clock.setTimeout(() => {
      this.handshakeTimer = null;
      if (gen === this.generation && !this.greeted) this.abandon();
    }, this.o.handshakeTimeoutMs);
  }

  private attemptState(): ConnState {
    if (this.attempt >= this.o.offlineAfterFailures) return 'offline';
    return this.everConnected ? 'reconnecting' : 'connecting';
  }

  /** Gives up on a socket that does not answer: no waiting for its close. */
  private abandon(): void {
    const wasGreeted = this.greeted;
    this.dropSocket(CloseCodes.clientTimeout);
    this.afterClose(CloseCodes.clientTimeout, wasGreeted);
  }

  /** Detaches and closes the current socket; its events are ignored from now on. */
  private dropSocket(code: number): void {
    const s = this.socket;
    this.generation++;
    this.socket = null;
    if (s) {
      s.onopen = s.onmessage = s.onerror = s.onclose = null;
      try {
        s.close(code);
      } catch {
        /* ignore */
      }
      this.greeted = false;
      this.unsendAll();
    }
    this.clearTimer('handshakeTimer');
    this.clearTimer('pingTimer');
    this.clearTimer('pongTimer');
  }

  private onSocketClosed(code: number): void {
    const wasGreeted = this.greeted;
    this.socket = null;
    this.greeted = false;
    this.generation++;
    this.clearTimer('handshakeTimer');
    this.clearTimer('pingTimer');
    this.clearTimer('pongTimer');
    this.unsendAll();
    this.afterClose(code, wasGreeted);
  }

  private unsendAll(): void {
    let any = false;
    for (const item of this.outbox)
      if (item.inFlight) {
        item.inFlight = false;
        any = true;
      }
    if (any) this.events.onUnsent?.();
  }

  private afterClose(code: number, wasGreeted: boolean): void {
    if (!this.running) return;
    if (code === CloseCodes.replaced) {
      this.replaced = true;
      this.clearTimer('flushTimer');
      this.setState('offline', 'replaced', null);
      this.events.onReplaced?.();
      return;
    }
    if (code === CloseCodes.resumeRefused && this.target) {
      // The session is gone or not ours: start a new one at once, keeping
      // the messages not yet delivered (they were never stored there).
      const old = { ...this.target, lastSeq: this.lastSeq };
      this.target = null;
      this.lastSeq = 0;
      this.everConnected = false;
      this.attempt = 0;
      this.events.onInvalidResume?.(old);
      if (this.running && !this.replaced && !this.socket) this.open();
      return;
    }
    if (code === CloseCodes.tryAgainLater || this.busy) {
      this.busy = false;
      this.busyStreak++;
      this.attempt++;
      const delay = backoffDelay(this.busyStreak - 1, this.o.busyBaseDelayMs, this.o.busyMaxDelayMs, this.o.random);
      this.scheduleReconnect(delay, 'busy');
      return;
    }
    if (wasGreeted) this.attempt = 0;
    const delay = backoffDelay(this.attempt, this.o.baseDelayMs, this.o.maxDelayMs, this.o.random);
    this.attempt++;
    this.scheduleReconnect(delay, 'retrying');
  }

  /**
   * Offline by the browser's account: wait for its `online` event, and probe
   * now and then anyway (navigator.onLine is not always right).
   */
  private waitForNetwork(): void {
    this.clearTimer('retryTimer');
    const delay = this.o.maxDelayMs;
    this.setState('offline', 'network', this.o.clock.now() + delay);
    this.retryTimer = this.o.clock.setTimeout(() => {
      this.retryTimer = null;
      this.open(true);
    }, delay);
  }

  private scheduleReconnect(delay: number, reason: StateReason): void {
    this.clearTimer('retryTimer');
    if (!this.online) {
      this.waitForNetwork();
      return;
    }
    const retryAt = this.o.clock.now() + delay;
    const state = this.attemptState();
    this.setState(state, state === 'offline' ? 'failures' : reason, retryAt);
    this.retryTimer = this.o.clock.setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
  }

  // -- frames -----------------------------------------------------------------

  private receive(data: unknown): void {
    this.lastReceived = this.o.clock.now();
    this.clearTimer('pongTimer');
    const frame = parseServerFrame(data);
    if (!frame) return;
    if (frame.seq > 0) {
      if (frame.seq <= this.watermark) return; // seen already (a replay overlap)
      this.watermark = frame.seq;
      if (frame.seq > this.lastSeq) this.lastSeq = frame.seq;
    }
    switch (frame.type) {
      case 'session':
        this.onSession(frame.session_id, frame.resume_token);
        this.events.onFrame?.(frame);
        this.flush();
        return;
      case 'ack':
        if (frame.id !== null) this.outbox = this.outbox.filter((i) => i.clientId !== frame.id);
        this.storageStreak = 0;
        break;
      case 'error':
        this.onError(frame);
        break;
      default:
        break;
    }
    this.events.onFrame?.(frame);
  }

  private onSession(sessionId: number, token: string): void {
    this.greeted = true;
    this.online = true; // whatever navigator.onLine said
    this.clearTimer('handshakeTimer');
    this.target = { sessionId, resumeToken: token, lastSeq: this.lastSeq };
    this.attempt = 0;
    this.busyStreak = 0;
    this.everConnected = true;
    this.setState('connected', 'session', null);
    this.schedulePing();
  }

  private onError(frame: ErrorFrame): void {
    const now = this.o.clock.now();
    // Errors about one message name it (`client_id`); older servers did
    // not, and then the guesses below stand in.
    const named = frame.client_id !== undefined ? this.outbox.find((i) => i.clientId === frame.client_id) ?? null : undefined;
    switch (frame.code) {
      case ErrorCodes.rateLimited:
      case ErrorCodes.tooManyPending: {
        const wait = Math.max(frame.retry_after_ms ?? 1000, 50);
        const items = named !== undefined ? (named ? [named] : []) : this.outbox.filter((i) => i.inFlight);
        for (const item of items) {
          item.inFlight = false;
          item.notBefore = now + wait;
        }
        this.scheduleFlush();
        return;
      }
      case ErrorCodes.storageUnavailable: {
        // Not stored: send it again after a pause (the database is in
        // trouble, so nothing goes out before). Without a name, everything
        // not acknowledged goes again (the server deduplicates by id).
        const delay = backoffDelay(this.storageStreak++, this.o.storageBaseDelayMs, this.o.storageMaxDelayMs, this.o.random);
        const items = named !== undefined ? (named ? [named] : []) : this.outbox;
        for (const item of items) item.inFlight = false;
        this.pausedUntil = now + delay;
        this.scheduleFlush();
        return;
      }
      case ErrorCodes.messageTooLong:
      case ErrorCodes.emptyMessage:
      case ErrorCodes.invalidFrame: {
        // Refused for good. Without a name: the server answers messages in
        // the order they came, each with an ack or an error, so it is the
        // oldest in flight.
        const item = named !== undefined ? named : this.outbox.find((i) => i.inFlight);
        if (!item) return;
        this.outbox = this.outbox.filter((i) => i !== item);
        this.events.onFailed?.(item.clientId, frame.code, frame.message);
        return;
      }
      case ErrorCodes.serverBusy:
        this.busy = true; // a 1013 close follows
        return;
      default:
        // shutting_down: the close (1001) that follows queues the message
        // again; internal_error: the message is stored, its answer comes
        // after the next resume.
        return;
    }
  }

  // -- the outbox ---------------------------------------------------------------

  private write(frame: Parameters<typeof encodeClientFrame>[0]): boolean {
    if (!this.socket) return false;
    try {
      this.socket.send(encodeClientFrame(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** Sends what is due, in order; stops at the first message that must wait (keeps the order). */
  private flush(): void {
    if (!this.greeted || !this.socket) return;
    const now = this.o.clock.now();
    for (const item of this.outbox) {
      if (item.inFlight) continue;
      const due = Math.max(item.notBefore, this.pausedUntil);
      if (due > now) {
        this.scheduleFlush();
        return;
      }
      if (!this.write({ type: 'message', text: item.text, id: item.clientId })) return;
      item.inFlight = true;
      this.events.onSent?.(item.clientId);
    }
  }

  private scheduleFlush(): void {
    const now = this.o.clock.now();
    // Messages go out in order: the first one not on the wire decides.
    const first = this.outbox.find((i) => !i.inFlight);
    if (!first) return;
    const due = Math.max(first.notBefore, this.pausedUntil);
    if (due <= now) {
      this.flush();
      return;
    }
    if (this.flushTimer !== null && this.flushAt <= due) return;
    this.clearTimer('flushTimer');
    this.flushAt = due;
    this.flushTimer = this.o.clock.setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, Math.max(0, due - now));
  }

  // -- keep-alive ---------------------------------------------------------------

  private schedulePing(): void {
    this.clearTimer('pingTimer');
    this.lastReceived = this.o.clock.now();
    const gen = this.generation;
    const check = () => {
      this.pingTimer = null;
      if (gen !== this.generation || !this.greeted) return;
      const idle = this.o.clock.now() - this.lastReceived;
      if (idle < this.o.pingIntervalMs) {
        this.pingTimer = this.o.clock.setTimeout(check, this.o.pingIntervalMs - idle);
        return;
      }
      if (this.pongTimer === null) {
        this.write({ type: 'ping' });
        this.pongTimer = this.o.clock.setTimeout(() => {
          this.pongTimer = null;
          if (gen === this.generation) this.abandon();
        }, this.o.pongTimeoutMs);
      }
      this.pingTimer = this.o.clock.setTimeout(check, this.o.pingIntervalMs);
    };
    this.pingTimer = this.o.clock.setTimeout(check, this.o.pingIntervalMs);
  }

  // -- helpers ------------------------------------------------------------------

  private setState(state: ConnState, reason: StateReason, retryAt: number | null): void {
    const detail: StateDetail = { reason, attempt: this.attempt, retryAt };
    const same =
      state === this.state &&
      detail.reason === this.detail.reason &&
      detail.attempt === this.detail.attempt &&
      detail.retryAt === this.detail.retryAt;
    this.state = state;
    this.detail = detail;
    if (!same) this.events.onState?.(state, detail);
  }

  private clearTimer(name: 'retryTimer' | 'flushTimer' | 'handshakeTimer' | 'pingTimer' | 'pongTimer'): void {
    const t = this[name];
    if (t !== null) {
      this.o.clock.clearTimeout(t);
      this[name] = null;
    }
  }

  private clearAllTimers(): void {
    this.clearTimer('retryTimer');
    this.clearTimer('flushTimer');
    this.clearTimer('handshakeTimer');
    this.clearTimer('pingTimer');
    this.clearTimer('pongTimer');
  }
}
