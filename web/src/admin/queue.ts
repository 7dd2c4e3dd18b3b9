// What the handoff queue shows for each session waiting for a human: the
// customer's last words and how long they have waited. Pure.

import type { Message, SessionWithMessages } from './api';
import { parseTime } from './format';
import { displayRole } from './transcript';

export interface HandoffSummary {
  id: number;
  title: string;
  channel: string;
  userId: number | null;
  messageCount: number;
  /** The customer's last message, or null when they wrote nothing. */
  lastCustomerMessage: string | null;
  lastCustomerAt: string | null;
  /**
   * `waiting`: the customer's turn is unanswered by a human since `since`;
   * `replied`: a human answered last, at `since`.
   */
  state: 'waiting' | 'replied';
  since: string | null;
  /** Customer messages since the last human reply (all of them after the handoff when none yet). */
  unanswered: number;
}

/**
 * The customer waits from the moment the bot handed them over (its last
 * answer) or, once a human has answered, from their first message after
 * that answer. When a human answered last, nobody waits on the team.
 */
export function summarizeHandoff(session: SessionWithMessages): HandoffSummary {
  const messages: Message[] = [...(session.messages ?? [])].sort((a, b) => a.id - b.id);
  let lastCustomer: Message | null = null;
  let anchor = -1; // the last message written by the support side (bot, notice or human)
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (displayRole(m) === 'user') lastCustomer = m;
    else anchor = i;
  }
  const after = messages.slice(anchor + 1); // all customer messages
  const anchorMsg = anchor >= 0 ? messages[anchor]! : null;
  let state: HandoffSummary['state'] = 'waiting';
  let since: string | null;
  if (anchorMsg && displayRole(anchorMsg) === 'agent') {
    if (after.length) since = after[0]!.created_at;
    else {
      state = 'replied';
      since = anchorMsg.created_at;
    }
  } else {
    // The bot's handoff notice (or nothing at all): waiting since then.
    since = anchorMsg?.created_at ?? messages[0]?.created_at ?? session.updated_at ?? null;
  }
  return {
    id: session.id,
    title: session.title,
    channel: session.channel,
    userId: session.user_id,
    messageCount: session.message_count,
    lastCustomerMessage: lastCustomer?.message ?? null,
    lastCustomerAt: lastCustomer?.created_at ?? null,
    state,
    since,
    unanswered: after.length,
  };
}

/** Milliseconds the customer has waited, or 0 when a human answered last. */
export function waitingMs(summary: HandoffSummary, now: number): number {
  if (summary.state !== 'waiting') return 0;
  const t = parseTime(summary.since);
  return Number.isNaN(t) ? 0 : Math.max(0, now - t);
}
