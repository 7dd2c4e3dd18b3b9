// The Parley chat protocol (docs/protocol.md): frame types and defensive
// parsing. Anything the server sends that does not look like a frame we know
// is dropped here, so the rest of the client only sees well-formed frames.

export type Seq = number;

export interface SessionFrame {
  type: 'session';
  seq: Seq;
  session_id: number;
  resume_token: string;
  resumed: boolean;
  /**
   * `handoff` while a human agent has the session, else `active`. Left out
   * when the server did not say (an older server): the client keeps what it knew.
   */
  status?: SessionStatus;
}

export type SessionStatus = 'active' | 'handoff';

export interface AckFrame {
  type: 'ack';
  seq: Seq;
  /** The client's id of the message, or null when it was sent without one. */
  id: string | null;
  message_id: number;
  /** Only on acks replayed from the database: the user's text. */
  text?: string;
}

export interface TypingFrame {
  type: 'typing';
  seq: Seq;
  /** The user message being answered (left out by older servers). */
  reply_to?: number;
}

export interface DeltaFrame {
  type: 'delta';
  seq: Seq;
  reply_to: number;
  /** Byte offset (UTF-8) of `text` in the answer. */
  offset: number;
  text: string;
}

export type MessageRole = 'assistant' | 'agent';
export type MessageSource = 'llm' | 'fallback' | 'agent' | 'system' | string;

export interface MessageFrame {
  type: 'message';
  seq: Seq;
  id: number;
  reply_to: number | null;
  role: MessageRole | string;
  text: string;
  source: MessageSource;
  agent_name?: string;
  tokens_used?: number;
  response_time?: number;
  finish_reason?: string;
  created_at?: string;
  /**
   * Only on a live message that changes who answers: `true` hands the
   * session to a human (the bot's hand-off reply, or an agent taking over),
   * `false` hands it back (the release notice). Replays never carry it.
   */
  handoff?: boolean;
}

export interface PongFrame {
  type: 'pong';
  seq: Seq;
}

export interface ErrorFrame {
  type: 'error';
  seq: Seq;
  code: string;
  message: string;
  retry_after_ms?: number;
  /** The client's id of the message this error refuses, if it had one. */
  client_id?: string;
}

export type ServerFrame =
  | SessionFrame
  | AckFrame
  | TypingFrame
  | DeltaFrame
  | MessageFrame
  | PongFrame
  | ErrorFrame;

export interface ClientMessageFrame {
  type: 'message';
  text: string;
  id: string;
}

export interface ClientCancelFrame {
  type: 'cancel';
  reply_to: number;
}

export interface ClientPingFrame {
  type: 'ping';
}

export type ClientFrame = ClientMessageFrame | ClientCancelFrame | ClientPingFrame;

/** Error codes the client acts on (docs/protocol.md, "Errors"). */
export const ErrorCodes = {
  invalidFrame: 'invalid_frame',
  unknownType: 'unknown_type',
  emptyMessage: 'empty_message',
  messageTooLong: 'message_too_long',
  binaryNotSupported: 'binary_not_supported',
  storageUnavailable: 'storage_unavailable',
  internalError: 'internal_error',
  rateLimited: 'rate_limited',
  tooManyPending: 'too_many_pending',
  serverBusy: 'server_busy',
  shuttingDown: 'shutting_down',
  invalidResume: 'invalid_resume',
} as const;

/** Close codes (docs/protocol.md, "Close codes"). */
export const CloseCodes = {
  normal: 1000,
  goingAway: 1001,
  invalidUtf8: 1007,
  resumeRefused: 1008,
  tooBig: 1009,
  tryAgainLater: 1013,
  replaced: 4000,
  /** Ours: the client gave up on a socket that stopped answering pings. */
  clientTimeout: 4001,
} as const;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isPosInt = (v: unknown): v is number => isInt(v) && v > 0;
const isNonNegInt = (v: unknown): v is number => isInt(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';

/**
 * Parses one text frame from the server. Returns null for anything that is
 * not valid JSON, not an object, of an unknown type, or missing the fields
 * the client needs. Extra fields are ignored; optional ones are kept only
 * when they have the right type.
 */
export function parseServerFrame(data: unknown): ServerFrame | null {
  if (typeof data !== 'string') return null;
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(raw) || !isStr(raw.type)) return null;
  const seq = raw.seq;
  if (!isNonNegInt(seq)) return null;
  switch (raw.type) {
    case 'session': {
      if (!isPosInt(raw.session_id) || !isStr(raw.resume_token) || raw.resume_token === '')
        return null;
      const frame: SessionFrame = {
        type: 'session',
        seq,
        session_id: raw.session_id,
        resume_token: raw.resume_token,
        resumed: raw.resumed === true,
      };
      // Any other status (one this client does not know) means the bot answers.
      if (isStr(raw.status)) frame.status = raw.status === 'handoff' ? 'handoff' : 'active';
      return frame;
    }
    case 'ack': {
      if (!isPosInt(raw.message_id)) return null;
      let id: string | null = null;
      if (isStr(raw.id)) id = raw.id;
      else if (isInt(raw.id)) id = String(raw.id);
      else if (raw.id !== null && raw.id !== undefined) return null;
      const frame: AckFrame = { type: 'ack', seq, id, message_id: raw.message_id };
      if (isStr(raw.text)) frame.text = raw.text;
      return frame;
    }
    case 'typing': {
      const frame: TypingFrame = { type: 'typing', seq };
      if (isPosInt(raw.reply_to)) frame.reply_to = raw.reply_to;
      return frame;
    }
    case 'delta':
      if (!isPosInt(raw.reply_to) || !isNonNegInt(raw.offset) || !isStr(raw.text)) return null;
      return { type: 'delta', seq, reply_to: raw.reply_to, offset: raw.offset, text: raw.text };
    case 'message': {
      if (!isPosInt(raw.id) || !isStr(raw.text)) return null;
      const replyTo = isPosInt(raw.reply_to) ? raw.reply_to : null;
      const frame: MessageFrame = {
        type: 'message',
        seq,
        id: raw.id,
        reply_to: replyTo,
        role: isStr(raw.role) ? raw.role : 'assistant',
        text: raw.text,
        source: isStr(raw.source) ? raw.source : '',
      };
      if (isStr(raw.agent_name)) frame.agent_name = raw.agent_name;
      if (typeof raw.tokens_used === 'number') frame.tokens_used = raw.tokens_used;
      if (typeof raw.response_time === 'number') frame.response_time = raw.response_time;
      if (isStr(raw.finish_reason)) frame.finish_reason = raw.finish_reason;
      if (isStr(raw.created_at)) frame.created_at = raw.created_at;
      if (typeof raw.handoff === 'boolean') frame.handoff = raw.handoff;
      return frame;
    }
    case 'pong':
      return { type: 'pong', seq };
    case 'error': {
      if (!isStr(raw.code)) return null;
      const frame: ErrorFrame = {
        type: 'error',
        seq,
        code: raw.code,
        message: isStr(raw.message) ? raw.message : '',
      };
      if (isNonNegInt(raw.retry_after_ms)) frame.retry_after_ms = raw.retry_after_ms;
      if (isStr(raw.client_id)) frame.client_id = raw.client_id;
      else if (isInt(raw.client_id)) frame.client_id = String(raw.client_id);
      return frame;
    }
    default:
      return null;
  }
}

export function encodeClientFrame(frame: ClientFrame): string {
  return JSON.stringify(frame);
}

/** Builds the socket URL: same host as the page, ws: or wss: to match. */
export function socketUrl(
  location: { protocol: string; host: string },
  resume: { sessionId: number; resumeToken: string; lastSeq: number } | null,
): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let url = `${scheme}//${location.host}/ws`;
  if (resume) {
    const q = new URLSearchParams({
      session_id: String(resume.sessionId),
      resume_token: resume.resumeToken,
      last_seq: String(Math.max(0, resume.lastSeq)),
    });
    url += `?${q.toString()}`;
  }
  return url;
}

const encoder = new TextEncoder();

/** UTF-8 length of a string, as the server counts message sizes. */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}
