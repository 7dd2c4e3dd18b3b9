// The conversation as a pure reducer: (state, event) -> state.
//
// It takes server frames (already deduplicated by seq by the connection) and
// local events (a message typed, written to a socket, refused) and keeps the
// list of messages the page shows. It never trusts that a frame is new:
// messages are matched by server message id and by client id, so replays
// after a resume, re-sent acks and merged copies from storage never show
// anything twice.

import type { AckFrame, DeltaFrame, ErrorFrame, MessageFrame, ServerFrame, SessionFrame, TypingFrame } from './protocol';
import { ErrorCodes } from './protocol';

export type Role = 'user' | 'assistant' | 'agent' | 'system';
export type UserStatus = 'pending' | 'sent' | 'acked' | 'failed';
export type ReplyStatus = 'streaming' | 'done';

/** A streamed piece that starts after the end of what we have (a gap). */
export interface Piece {
  offset: number;
  text: string;
}

export interface ChatMessage {
  /** Stable local key for rendering; never sent anywhere. */
  key: string;
  role: Role;
  text: string;
  status: UserStatus | ReplyStatus;
  /** The client's id of a user message (`c-…`), used to match its ack. */
  clientId?: string;
  /** The server's message id, once known. */
  messageId?: number;
  /** For replies: the id of the user message answered. */
  replyTo?: number | null;
  /** True while `replyTo` is only our guess (a `typing` frame from an older server names nothing). */
  replyToGuessed?: boolean;
  /** Seq of the frame that created or last placed the message. */
  seq?: number;
  source?: string;
  agentName?: string;
  finishReason?: string;
  createdAt?: string;
  /** Pieces of a stream that wait for the bytes before them. */
  pieces?: Piece[];
  /** A stream from before the socket was replaced; the server resends it. */
  stale?: boolean;
  /**
   * An answer that began arriving (typing or a piece) while this page was
   * open: the view reveals it gradually. Never stored, so a reload shows it
   * at once.
   */
  fresh?: boolean;
  /** Why a user message could not be delivered. */
  error?: string;
}

/**
 * Who answers. `active`: a human has the conversation (the bot handed it
 * over, or an agent took it); `agentName`: the agent who wrote last in this
 * handoff, null while nobody has joined yet.
 */
export interface HandoffState {
  active: boolean;
  agentName: string | null;
}

export interface TranscriptError {
  code: string;
  message: string;
  /** The message the error is about (the server's `client_id`), when it said. */
  clientId?: string;
}

export interface TranscriptState {
  sessionId: number | null;
  resumeToken: string | null;
  /** Highest non-zero seq seen for this session. */
  lastSeq: number;
  messages: ChatMessage[];
  handoff: HandoffState;
  /** Acknowledged user messages (server ids) the bot is still to answer, oldest first. */
  awaiting: number[];
  /** Key of the reply being generated on the current socket, if any. */
  generating: string | null;
  error: TranscriptError | null;
}

export type TranscriptEvent =
  | { type: 'frame'; frame: ServerFrame }
  | { type: 'local-send'; clientId: string; text: string; at: string }
  | { type: 'sent'; clientId: string }
  | { type: 'unsent' }
  | { type: 'failed'; clientId: string; code: string; message: string }
  | { type: 'merge'; messages: ChatMessage[]; lastSeq: number }
  | { type: 'local-error'; code: string; message: string }
  | { type: 'clear-error' };

export function emptyTranscript(): TranscriptState {
  return {
    sessionId: null,
    resumeToken: null,
    lastSeq: 0,
    messages: [],
    handoff: { active: false, agentName: null },
    awaiting: [],
    generating: null,
    error: null,
  };
}

// -- UTF-8 streaming ----------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** At most this many out-of-order pieces are kept for one stream. */
export const MAX_WAITING_PIECES = 256;

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Places a streamed piece at its UTF-8 byte offset.
 *
 * - A piece that lies within what we have and agrees with it adds nothing
 *   (a resend after a resume, an overlap).
 * - A piece that overlaps the end adds only the bytes past the end.
 * - A piece that disagrees with what we have wins: the server's bytes are
 *   the truth (e.g. the answer was restarted after a server crash), and what
 *   we had after its offset is dropped.
 * - A piece that starts past the end waits in `pieces` until the bytes before
 *   it arrive (bounded); the final `message` makes waiting pieces moot.
 */
export function applyDelta(
  current: string,
  waiting: readonly Piece[] | undefined,
  offset: number,
  text: string,
): { text: string; pieces: Piece[] } {
  let bytes: Uint8Array = encoder.encode(current);
  let queue: Piece[] = [...(waiting ?? []), { offset, text }].sort((a, b) => a.offset - b.offset);
  let progress = true;
  while (progress) {
    progress = false;
    const rest: Piece[] = [];
    for (const piece of queue) {
      if (piece.offset > bytes.length) {
        rest.push(piece);
        continue;
      }
      progress = true;
      const pb = encoder.encode(piece.text);
      const end = piece.offset + pb.length;
      const overlap = Math.min(bytes.length, end) - piece.offset;
      if (bytesEqual(bytes.subarray(piece.offset, piece.offset + overlap), pb.subarray(0, overlap))) {
        if (end > bytes.length) bytes = concat(bytes, pb.subarray(overlap));
      } else {
        bytes = concat(bytes.subarray(0, piece.offset), pb);
      }
    }
    queue = rest;
  }
  if (queue.length > MAX_WAITING_PIECES) queue = queue.slice(0, MAX_WAITING_PIECES);
  return { text: decoder.decode(bytes), pieces: queue };
}

// -- helpers ------------------------------------------------------------------

function roleOf(frame: MessageFrame): Role {
  if (frame.source === 'system') return 'system';
  if (frame.role === 'agent' || frame.source === 'agent') return 'agent';
  return 'assistant';
}

/**
 * Inserts a message where its seq puts it: before the first message with a
 * larger seq, else before the trailing local messages not yet acknowledged,
 * else at the end.
 */
export function insertBySeq(messages: readonly ChatMessage[], message: ChatMessage): ChatMessage[] {
  const out = messages.slice();
  if (message.seq === undefined) {
    out.push(message);
    return out;
  }
  const seq = message.seq;
  let idx = out.findIndex((m) => m.seq !== undefined && m.seq > seq);
  if (idx === -1) {
    idx = out.length;
    while (idx > 0) {
      const prev = out[idx - 1]!;
      const localOnly = prev.seq === undefined && prev.role === 'user' && prev.status !== 'acked';
      if (!localOnly) break;
      idx--;
    }
  }
  out.splice(idx, 0, message);
  return out;
}

function replaceAt(messages: readonly ChatMessage[], index: number, message: ChatMessage): ChatMessage[] {
  const out = messages.slice();
  out[index] = message;
  return out;
}

function findIndex(messages: readonly ChatMessage[], pred: (m: ChatMessage) => boolean): number {
  for (let i = 0; i < messages.length; i++) if (pred(messages[i]!)) return i;
  return -1;
}

function withSeq(state: TranscriptState, seq: number): TranscriptState {
  return seq > state.lastSeq ? { ...state, lastSeq: seq } : state;
}

function removeAwaitingThrough(awaiting: number[], id: number): number[] {
  const idx = awaiting.indexOf(id);
  // Messages are answered in the order they were acknowledged: anything
  // before the answered one will not be answered (it was given up on).
  return idx === -1 ? awaiting : awaiting.slice(idx + 1);
}

// -- frames -------------------------------------------------------------------

function onAck(state: TranscriptState, frame: AckFrame): TranscriptState {
  const { messages } = state;
  if (findIndex(messages, (m) => m.role === 'user' && m.messageId === frame.message_id) !== -1) {
    return state; // a replay or a re-sent ack: known already
  }
  let next = messages;
  const byClient =
    frame.id === null ? -1 : findIndex(messages, (m) => m.role === 'user' && m.clientId === frame.id);
  if (byClient !== -1) {
    const m = messages[byClient]!;
    const updated: ChatMessage = { ...m, status: 'acked', messageId: frame.message_id, seq: frame.seq };
    delete updated.error;
    next = replaceAt(messages, byClient, updated);
  } else if (frame.text !== undefined) {
    const m: ChatMessage = {
      key: `u-m${frame.message_id}`,
      role: 'user',
      text: frame.text,
      status: 'acked',
      messageId: frame.message_id,
      seq: frame.seq,
    };
    if (frame.id !== null) m.clientId = frame.id;
    next = insertBySeq(messages, m);
  }
  // A live ack for a message sent elsewhere (REST) carries no text: nothing
  // to show, but the bot may answer it, so it still counts as awaited.
  const awaiting = state.handoff.active ? state.awaiting : [...state.awaiting, frame.message_id];
  // A delivery problem is over once its message got through (any message,
  // when the error did not say which one it was about).
  const error =
    state.error && isDeliveryError(state.error.code) && (state.error.clientId === undefined || state.error.clientId === frame.id)
      ? null
      : state.error;
  return { ...state, messages: next, awaiting, error };
}

function isDeliveryError(code: string): boolean {
  return (
    code === ErrorCodes.rateLimited ||
    code === ErrorCodes.tooManyPending ||
    code === ErrorCodes.storageUnavailable ||
    code === ErrorCodes.shuttingDown
  );
}

function onTyping(state: TranscriptState, frame: TypingFrame): TranscriptState {
  const { messages } = state;
  const known = frame.reply_to ?? null;
  let idx: number;
  if (known !== null) {
    if (findIndex(messages, (m) => m.role === 'assistant' && m.status === 'done' && m.replyTo === known) !== -1) return state;
    // The same answer again (after a resume the server announces it anew,
    // before it re-sends what was streamed): keep its bubble.
    idx = findIndex(messages, (m) => m.status === 'streaming' && m.replyTo === known && !m.replyToGuessed);
    if (idx === -1) idx = findIndex(messages, (m) => m.status === 'streaming' && m.text === '' && (m.replyToGuessed === true || m.replyTo == null));
  } else {
    // An older server does not say which message is answered. A stream cut
    // off by a reconnect belongs to the same (oldest) answer: answers are
    // generated one at a time, in order.
    idx = findIndex(messages, (m) => m.status === 'streaming' && m.stale === true);
    if (idx === -1) idx = findIndex(messages, (m) => m.status === 'streaming' && m.text === '');
  }
  const guess = state.awaiting[0] ?? null;
  if (idx !== -1) {
    const m = messages[idx]!;
    const reused: ChatMessage = { ...m, stale: false };
    if (known !== null) {
      reused.replyTo = known;
      delete reused.replyToGuessed;
    } else if (m.replyTo == null && guess !== null) {
      reused.replyTo = guess;
      reused.replyToGuessed = true;
    }
    return { ...state, messages: replaceAt(messages, idx, reused), generating: m.key };
  }
  const placeholder: ChatMessage = {
    key: `r-t${frame.seq}`,
    role: 'assistant',
    text: '',
    status: 'streaming',
    replyTo: known ?? guess,
    seq: frame.seq,
    fresh: true,
  };
  if (known === null) placeholder.replyToGuessed = true;
  return { ...state, messages: [...messages, placeholder], generating: placeholder.key };
}

function onDelta(state: TranscriptState, frame: DeltaFrame): TranscriptState {
  const { messages } = state;
  if (findIndex(messages, (m) => m.status === 'done' && m.replyTo === frame.reply_to && m.role === 'assistant') !== -1) {
    return state; // the answer is final already
  }
  let idx = findIndex(messages, (m) => m.status === 'streaming' && m.replyTo === frame.reply_to && !m.replyToGuessed);
  if (idx === -1)
    idx = findIndex(
      messages,
      (m) => m.status === 'streaming' && (m.replyToGuessed === true || m.replyTo == null) && m.text === '' && !m.pieces?.length,
    );
  if (idx === -1) idx = findIndex(messages, (m) => m.status === 'streaming' && m.replyTo === frame.reply_to);
  let base: ChatMessage;
  let list: ChatMessage[];
  if (idx === -1) {
    base = {
      key: `r-d${frame.seq}`,
      role: 'assistant',
      text: '',
      status: 'streaming',
      replyTo: frame.reply_to,
      seq: frame.seq,
      fresh: true,
    };
    list = [...messages, base];
    idx = list.length - 1;
  } else {
    base = messages[idx]!;
    list = messages.slice();
  }
  const applied = applyDelta(base.text, base.pieces, frame.offset, frame.text);
  const updated: ChatMessage = { ...base, text: applied.text, replyTo: frame.reply_to, stale: false };
  delete updated.replyToGuessed;
  if (applied.pieces.length) updated.pieces = applied.pieces;
  else delete updated.pieces;
  list[idx] = updated;
  return { ...state, messages: list, generating: updated.key };
}

function onMessage(state: TranscriptState, frame: MessageFrame): TranscriptState {
  const { messages } = state;
  if (findIndex(messages, (m) => m.role !== 'user' && m.messageId === frame.id) !== -1) {
    return state; // replayed or re-sent: known already
  }
  const role = roleOf(frame);
  const final: ChatMessage = {
    key: `r-m${frame.id}`,
    role,
    text: frame.text,
    status: 'done',
    messageId: frame.id,
    replyTo: frame.reply_to,
    seq: frame.seq,
    source: frame.source,
  };
  if (frame.agent_name !== undefined) final.agentName = frame.agent_name;
  if (frame.finish_reason !== undefined) final.finishReason = frame.finish_reason;
  if (frame.created_at !== undefined) final.createdAt = frame.created_at;

  let next: ChatMessage[];
  let generating = state.generating;
  let idx = -1;
  if (role === 'assistant' && frame.reply_to !== null) {
    idx = findIndex(messages, (m) => m.status === 'streaming' && m.replyTo === frame.reply_to && !m.replyToGuessed);
    if (idx === -1)
      idx = findIndex(messages, (m) => m.status === 'streaming' && m.replyTo === frame.reply_to);
    if (idx === -1)
      idx = findIndex(messages, (m) => m.status === 'streaming' && m.replyToGuessed === true && m.text === '');
  }
  if (idx !== -1) {
    // The final message takes the streamed bubble's place (and key, so the
    // view keeps the same element and nothing jumps).
    const old = messages[idx]!;
    const replaced: ChatMessage = { ...final, key: old.key };
    if (old.fresh) replaced.fresh = true;
    next = replaceAt(messages, idx, replaced);
    if (generating === old.key) generating = null;
  } else {
    next = insertBySeq(messages, final);
  }

  let awaiting = state.awaiting;
  if (frame.reply_to !== null && role === 'assistant') awaiting = removeAwaitingThrough(awaiting, frame.reply_to);
  const handoff = nextHandoff(state.handoff, frame, role);
  if (handoff.active && (role === 'agent' || frame.handoff === true)) {
    // While a person has the conversation, the bot answers nothing new.
    const current = generating ? next.find((m) => m.key === generating)?.replyTo : null;
    awaiting = current != null ? awaiting.filter((id) => id === current) : [];
  } else if (role === 'system') {
    awaiting = [];
  }
  return { ...state, messages: next, generating, awaiting, handoff: sameHandoff(handoff, state.handoff) ? state.handoff : handoff };
}

const agentNameOf = (frame: MessageFrame) => frame.agent_name?.trim() || 'Support agent';

/**
 * Who answers after `frame`. Only live messages that change it say so
 * (`handoff`); replayed ones do not, and after a resume the `session`
 * frame's status has told already. So a message without the flag never
 * starts or ends a handoff: an agent's message names who has joined (while
 * a human has the conversation), a notice from the support side (a replayed
 * release) means whoever had joined is gone.
 */
function nextHandoff(current: HandoffState, frame: MessageFrame, role: Role): HandoffState {
  if (frame.handoff === true) return { active: true, agentName: role === 'agent' ? agentNameOf(frame) : null };
  if (frame.handoff === false) return { active: false, agentName: null };
  if (role === 'agent' && current.active) return { active: true, agentName: agentNameOf(frame) };
  if (role === 'system' && current.agentName !== null) return { ...current, agentName: null };
  return current;
}

function sameHandoff(a: HandoffState, b: HandoffState): boolean {
  return a.active === b.active && a.agentName === b.agentName;
}

function onSession(state: TranscriptState, frame: SessionFrame): TranscriptState {
  let next: TranscriptState = { ...state, sessionId: frame.session_id, resumeToken: frame.resume_token };
  // A new socket: nothing is being generated on it yet. A bubble still
  // waiting for its first byte goes (a `typing` comes again if the bot is
  // still at it); a half-streamed one stays, marked stale, until the
  // server re-sends it (one delta from offset 0) or its final message.
  const messages = next.messages
    .filter((m) => !(m.status === 'streaming' && m.text === ''))
    .map((m) => (m.status === 'streaming' ? { ...m, stale: true, pieces: undefined } : m));
  next = { ...next, messages, generating: null };
  // Whether a human has the conversation: the server knows (replayed
  // messages do not carry the flag). The agent who joined is kept while the
  // handoff goes on; a replayed release notice forgets them.
  if (frame.status === 'handoff') {
    if (!state.handoff.active) next.handoff = { active: true, agentName: null };
    next.awaiting = [];
  } else if (frame.status === 'active' && state.handoff.active) {
    next.handoff = { active: false, agentName: null };
  }
  return next;
}

function onError(state: TranscriptState, frame: ErrorFrame): TranscriptState {
  let next = state;
  if (frame.code === ErrorCodes.internalError) {
    // The answer failed; the bubble waiting for it goes (the message is
    // stored and answered after the next resume). The error names the
    // message; without that, every bubble still waiting for its first byte.
    const asked = frame.client_id === undefined
      ? undefined
      : state.messages.find((m) => m.role === 'user' && m.clientId === frame.client_id)?.messageId;
    const waiting = (m: ChatMessage) => m.status === 'streaming' && m.text === '';
    const gone = asked === undefined ? waiting : (m: ChatMessage) => waiting(m) && m.replyTo === asked;
    const messages = state.messages.filter((m) => !gone(m));
    const stillThere = state.generating !== null && messages.some((m) => m.key === state.generating);
    next = { ...state, messages, generating: stillThere ? state.generating : null };
  }
  if (frame.code === ErrorCodes.invalidResume || frame.code === ErrorCodes.serverBusy) return next;
  const error: TranscriptError = { code: frame.code, message: frame.message };
  if (frame.client_id !== undefined) error.clientId = frame.client_id;
  return { ...next, error };
}

function onFrame(state: TranscriptState, frame: ServerFrame): TranscriptState {
  if (frame.seq > 0) state = withSeq(state, frame.seq);
  switch (frame.type) {
    case 'session':
      return onSession(state, frame);
    case 'ack':
      return onAck(state, frame);
    case 'typing':
      return onTyping(state, frame);
    case 'delta':
      return onDelta(state, frame);
    case 'message':
      return onMessage(state, frame);
    case 'error':
      return onError(state, frame);
    case 'pong':
      return state;
  }
}

// -- merging another copy -------------------------------------------------------

const userRank: Record<string, number> = { failed: 0, pending: 1, sent: 2, acked: 3 };

function merge(state: TranscriptState, incoming: readonly ChatMessage[], lastSeq: number): TranscriptState {
  let messages = state.messages.slice();
  for (const m of incoming) {
    if (m.status === 'streaming') continue; // streams are never merged: the server resends them
    const idx = findIndex(
      messages,
      (x) =>
        (m.messageId !== undefined && x.messageId === m.messageId && (x.role === 'user') === (m.role === 'user')) ||
        (m.clientId !== undefined && x.role === 'user' && m.role === 'user' && x.clientId === m.clientId),
    );
    if (idx === -1) {
      messages = insertBySeq(messages, { ...m });
      continue;
    }
    const have = messages[idx]!;
    if (have.role === 'user' && (userRank[m.status] ?? 0) > (userRank[have.status] ?? 0)) {
      messages[idx] = { ...have, status: m.status, messageId: m.messageId ?? have.messageId, seq: m.seq ?? have.seq };
    }
  }
  return { ...state, messages, lastSeq: Math.max(state.lastSeq, lastSeq) };
}

// -- the reducer ------------------------------------------------------------------

export function reduce(state: TranscriptState, event: TranscriptEvent): TranscriptState {
  switch (event.type) {
    case 'frame':
      return onFrame(state, event.frame);
    case 'local-send': {
      if (findIndex(state.messages, (m) => m.clientId === event.clientId) !== -1) return state;
      const m: ChatMessage = {
        key: `u-${event.clientId}`,
        role: 'user',
        text: event.text,
        status: 'pending',
        clientId: event.clientId,
        createdAt: event.at,
      };
      return { ...state, messages: [...state.messages, m], error: null };
    }
    case 'sent': {
      const idx = findIndex(state.messages, (m) => m.role === 'user' && m.clientId === event.clientId);
      if (idx === -1 || state.messages[idx]!.status !== 'pending') return state;
      return { ...state, messages: replaceAt(state.messages, idx, { ...state.messages[idx]!, status: 'sent' }) };
    }
    case 'unsent': {
      if (!state.messages.some((m) => m.role === 'user' && m.status === 'sent')) return state;
      const messages = state.messages.map((m) =>
        m.role === 'user' && m.status === 'sent' ? { ...m, status: 'pending' as const } : m,
      );
      return { ...state, messages };
    }
    case 'failed': {
      const idx = findIndex(state.messages, (m) => m.role === 'user' && m.clientId === event.clientId);
      const error: TranscriptError = { code: event.code, message: event.message, clientId: event.clientId };
      if (idx === -1) return { ...state, error };
      const m = state.messages[idx]!;
      if (m.status === 'acked') return state;
      return {
        ...state,
        messages: replaceAt(state.messages, idx, { ...m, status: 'failed', error: event.message }),
        error,
      };
    }
    case 'merge':
      return merge(state, event.messages, event.lastSeq);
    case 'local-error':
      return { ...state, error: { code: event.code, message: event.message } };
    case 'clear-error':
      return state.error ? { ...state, error: null } : state;
  }
}

/** User messages still to be delivered, oldest first (the outbox). */
export function unsentMessages(state: TranscriptState): { clientId: string; text: string }[] {
  return state.messages
    .filter((m) => m.role === 'user' && m.clientId !== undefined && (m.status === 'pending' || m.status === 'sent'))
    .map((m) => ({ clientId: m.clientId!, text: m.text }));
}

/** The reply being generated on this socket, with the message it answers. */
export function generatingReply(state: TranscriptState): { key: string; replyTo: number | null } | null {
  if (!state.generating) return null;
  const m = state.messages.find((x) => x.key === state.generating);
  if (!m || m.status !== 'streaming') return null;
  return { key: m.key, replyTo: m.replyTo ?? state.awaiting[0] ?? null };
}

/** The first user message: the conversation's title in the history. */
export function titleOf(state: { messages: readonly ChatMessage[] }): string {
  const first = state.messages.find((m) => m.role === 'user');
  if (!first) return '';
  const line = first.text.trim().replace(/\s+/g, ' ');
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}
