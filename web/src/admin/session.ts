// One open session: its first load, the polls that follow (new messages by
// `after_id`, the session's status), and the agent's actions. The view
// renders `state` and calls the actions; everything else happens here, with
// the API, timers and clock injected.

import { ApiError, UnauthorizedError, describeError, type ApiClient, type Message, type Session, type User } from './api';
import { Poller, type PollContext, type Timers } from './poller';
import { lastMessageId, mergeMessages } from './transcript';

export const MESSAGE_POLL_MS = 1500;
const PAGE = 100;
/** At most this many pages in one poll (a burst of 1000 messages); the rest comes next poll. */
const MAX_PAGES_PER_POLL = 10;

export interface SessionState {
  id: number;
  session: Session | null;
  messages: Message[];
  user: User | null;
  /** The first load is under way. */
  loading: boolean;
  /** The session could not be loaded at all (404, …): nothing else to show. */
  loadError: string | null;
  /** The last poll failed (retried with backoff); null once one succeeds. */
  pollError: string | null;
  sending: boolean;
  busy: 'release' | 'close' | 'reopen' | null;
  /** The last action's failure (reply, release, close), for the reply box. */
  actionError: string | null;
  /** Something the last action wants the agent to know, not an error. */
  actionNotice: string | null;
}

export type SessionApi = Pick<ApiClient, 'sessionWithMessages' | 'session' | 'messagesAfter' | 'agentMessage' | 'release' | 'updateSession' | 'user'>;

export class SessionController {
  private s: SessionState;
  private readonly poller: Poller;
  private loaded = false;
  private listeners = new Set<(s: SessionState) => void>();
  private disposed = false;
  /** Bumped by every action that sets the session: a poll begun before it brings an older status. */
  private actions = 0;

  constructor(
    private readonly api: SessionApi,
    readonly id: number,
    timers: Timers,
    interval = MESSAGE_POLL_MS,
  ) {
    this.s = {
      id,
      session: null,
      messages: [],
      user: null,
      loading: true,
      loadError: null,
      pollError: null,
      sending: false,
      busy: null,
      actionError: null,
      actionNotice: null,
    };
    this.poller = new Poller((ctx) => this.poll(ctx), {
      interval,
      timers,
      maxBackoff: 30_000,
      isFatal: (e) => e instanceof UnauthorizedError || (!this.loaded && e instanceof ApiError && e.status >= 400 && e.status < 500),
      onError: (e) => {
        if (!this.loaded && e instanceof ApiError && !(e instanceof UnauthorizedError) && e.status >= 400 && e.status < 500) {
          const text = e.status === 404 ? `There is no session ${this.id}.` : describeError(e);
          this.set({ loading: false, loadError: text });
        } else {
          this.set({ pollError: describeError(e) });
        }
      },
      onRecover: () => this.set({ pollError: null }),
    });
  }

  get state(): SessionState {
    return this.s;
  }

  subscribe(fn: (s: SessionState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  start(): void {
    this.poller.start();
  }

  stop(): void {
    this.disposed = true;
    this.poller.stop();
    this.listeners.clear();
  }

  /** Polls now (after an action, or when the tab comes back). */
  refresh(): void {
    this.poller.poke();
  }

  private async poll(ctx: PollContext): Promise<void> {
    if (!this.loaded) {
      const full = await this.api.sessionWithMessages(this.id);
      if (ctx.isStopped()) return;
      const { messages, ...session } = full;
      this.loaded = true;
      this.set({
        session,
        messages: mergeMessages(this.s.messages, Array.isArray(messages) ? messages : []),
        loading: false,
        loadError: null,
        pollError: null,
      });
      if (session.user_id !== null && session.user_id !== undefined) void this.loadUser(session.user_id);
      return;
    }
    // New messages (page after page while a burst is bigger than a page),
    // and the session itself (its status changes without a message, e.g.
    // when another agent closes it).
    const actions = this.actions;
    const [session] = await Promise.all([this.api.session(this.id), this.pollMessages(ctx)]);
    if (ctx.isStopped()) return;
    if (actions === this.actions && !sameSession(this.s.session, session)) this.set({ session });
  }

  private async pollMessages(ctx: PollContext): Promise<void> {
    for (let i = 0; i < MAX_PAGES_PER_POLL; i++) {
      const after = lastMessageId(this.s.messages);
      const page = await this.api.messagesAfter(this.id, after, PAGE);
      if (ctx.isStopped()) return;
      const merged = mergeMessages(this.s.messages, page.items);
      if (merged !== this.s.messages) this.set({ messages: merged });
      if (page.items.length < PAGE || page.pagination.pages <= 1) return;
    }
  }

  private async loadUser(userId: number): Promise<void> {
    try {
      const user = await this.api.user(userId);
      if (!this.disposed) this.set({ user });
    } catch {
      /* deleted user, or a blip: the header shows the id */
    }
  }

  /** Sends the agent's reply; true when it was stored. */
  async send(text: string, agentName: string): Promise<boolean> {
    const body = text.trim();
    if (!body || this.s.sending) return false;
    this.set({ sending: true, actionError: null, actionNotice: null });
    try {
      const res = await this.api.agentMessage(this.id, text, agentName);
      if (this.disposed) return true;
      this.actions++;
      this.set({
        sending: false,
        messages: res.message ? mergeMessages(this.s.messages, [res.message]) : this.s.messages,
        session: this.s.session && res.status ? { ...this.s.session, status: res.status } : this.s.session,
      });
      return true;
    } catch (e) {
      if (!this.disposed) this.set({ sending: false, actionError: `Not sent: ${describeError(e)}` });
      return false;
    }
  }

  /** Hands the session back to the bot. */
  async release(): Promise<void> {
    if (this.s.busy) return;
    this.set({ busy: 'release', actionError: null, actionNotice: null });
    try {
      const res = await this.api.release(this.id);
      if (this.disposed) return;
      this.actions++;
      this.set({
        busy: null,
        actionNotice: 'Handed back to the bot.',
        messages: res.message ? mergeMessages(this.s.messages, [res.message]) : this.s.messages,
        session: this.s.session ? { ...this.s.session, status: res.status ?? 'active' } : this.s.session,
      });
    } catch (e) {
      if (this.disposed) return;
      const text =
        e instanceof ApiError && e.status === 409
          ? 'This session is not handed off to a human, so there is nothing to release.'
          : `Not released: ${describeError(e)}`;
      this.set({ busy: null, actionError: text });
    }
    this.refresh();
  }

  /** Closes (inactive) or reopens (active) the session. */
  async setStatus(status: 'active' | 'inactive'): Promise<void> {
    if (this.s.busy) return;
    this.set({ busy: status === 'inactive' ? 'close' : 'reopen', actionError: null, actionNotice: null });
    try {
      const session = await this.api.updateSession(this.id, { status });
      if (this.disposed) return;
      this.actions++;
      this.set({ busy: null, session, actionNotice: status === 'inactive' ? 'Session closed.' : 'Session reopened.' });
    } catch (e) {
      if (this.disposed) return;
      this.set({ busy: null, actionError: `${status === 'inactive' ? 'Not closed' : 'Not reopened'}: ${describeError(e)}` });
    }
    // Closing a handed-off session hands it back: the notice the customer got is new.
    this.refresh();
  }

  dismissNotice(): void {
    if (this.s.actionError || this.s.actionNotice) this.set({ actionError: null, actionNotice: null });
  }

  private set(patch: Partial<SessionState>): void {
    if (this.disposed) return;
    this.s = { ...this.s, ...patch };
    for (const fn of this.listeners) fn(this.s);
  }
}

function sameSession(a: Session | null, b: Session): boolean {
  return (
    a !== null &&
    a.id === b.id &&
    a.status === b.status &&
    a.title === b.title &&
    a.message_count === b.message_count &&
    a.updated_at === b.updated_at &&
    a.user_id === b.user_id &&
    a.channel === b.channel
  );
}
