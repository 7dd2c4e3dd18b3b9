// Test doubles: a manual clock with timers (the chat's and the console's
// tests), and sockets the chat tests drive. The console's in-memory server is
// in console-fakes.ts.
import type { Clock, ConnectionOptions, SocketLike } from '../src/chat/connection';
import { ChatConnection } from '../src/chat/connection';
import type { Timers } from '../src/admin/poller';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** Time that moves only when told, with the timers it runs (a chat `Clock`, the console's `Timers`). */
export class FakeClock implements Clock, Timers {
  private seq = 0;
  timers: Timer[] = [];

  constructor(private t = 1_000_000) {}

  /** A bound function: can be handed on as a `now` callback. */
  now = (): number => this.t;

  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.seq;
    this.timers.push({ id, at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  /** Moves time forward, running the timers that come due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let runs = 0; ; runs++) {
      if (runs > 10_000) throw new Error('FakeClock: timers keep firing (a loop?)');
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
  /** The delays until the timers still waiting, shortest first. */
  pending(): number[] {
    return this.timers.map((x) => x.at - this.t).sort((a, b) => a - b);
  }
  /** Delay until the next timer, or null. */
  nextDelay(): number | null {
    return this.pending()[0] ?? null;
  }
}

export class FakeSocket implements SocketLike {
  sent: string[] = [];
  closed: { code?: number } | null = null;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.closed) throw new Error('send on a closed socket');
    this.sent.push(data);
  }
  close(code?: number): void {
    this.closed = { code };
  }

  // -- the server side --
  open(): void {
    this.onopen?.(undefined as never);
  }
  receive(frame: object | string): void {
    const data = typeof frame === 'string' ? frame : JSON.stringify(frame);
    this.onmessage?.({ data } as MessageEvent);
  }
  serverClose(code: number, reason = ''): void {
    this.closed = { code };
    this.onclose?.({ code, reason } as CloseEvent);
  }
  /** Parsed client frames. */
  frames(): Array<Record<string, unknown>> {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }
  messages(): Array<{ text: string; id: string }> {
    return this.frames().filter((f) => f.type === 'message') as Array<{ text: string; id: string }>;
  }
  params(): URLSearchParams {
    return new URL(this.url).searchParams;
  }
}

export interface Harness {
  clock: FakeClock;
  sockets: FakeSocket[];
  last(): FakeSocket;
  online: { value: boolean };
  options: ConnectionOptions;
  connection: ChatConnection;
}

export function harness(overrides: Partial<ConnectionOptions> = {}, random = () => 0.5): Harness {
  const clock = new FakeClock();
  const sockets: FakeSocket[] = [];
  const online = { value: true };
  const options: ConnectionOptions = {
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    buildUrl: (resume) => {
      const u = new URL('ws://chat.test/ws');
      if (resume) {
        u.searchParams.set('session_id', String(resume.sessionId));
        u.searchParams.set('resume_token', resume.resumeToken);
        u.searchParams.set('last_seq', String(resume.lastSeq));
      }
      return u.toString();
    },
    clock,
    random,
    isOnline: () => online.value,
    ...overrides,
  };
  const connection = new ChatConnection(options);
  return {
    clock,
    sockets,
    online,
    options,
    connection,
    last: () => {
      const s = sockets[sockets.length - 1];
      if (!s) throw new Error('no socket yet');
      return s;
    },
  };
}

export const greet = (s: FakeSocket, sessionId = 7, token = 'tok', seq = 1) =>
  s.receive({ type: 'session', seq, session_id: sessionId, resume_token: token, resumed: seq === 0 });
