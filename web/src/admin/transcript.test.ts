import { describe, expect, it } from 'vitest';
import type { Message } from './api';
import { authorLabel, displayRole, lastMessageId, mergeMessages } from './transcript';
import { makeMessage } from '../../test/console-fakes';

const msg = (id: number, role: string, text = `m${id}`, extra: Partial<Message> = {}): Message =>
  makeMessage(role, { id, message: text, created_at: `2026-01-01T00:00:${String(id).padStart(2, '0')}.000000Z`, ...extra });

const ids = (list: Message[]) => list.map((m) => m.id);

describe('mergeMessages', () => {
  it('appends new messages in id order', () => {
    const a = [msg(1, 'user'), msg(2, 'assistant')];
    expect(ids(mergeMessages(a, [msg(4, 'assistant'), msg(3, 'user')]))).toEqual([1, 2, 3, 4]);
  });

  it('keeps one copy of each message across overlapping polls', () => {
    let t: Message[] = [];
    t = mergeMessages(t, [msg(1, 'user'), msg(2, 'assistant'), msg(3, 'user')]);
    t = mergeMessages(t, [msg(2, 'assistant'), msg(3, 'user'), msg(4, 'assistant')]);
    t = mergeMessages(t, [msg(3, 'user'), msg(4, 'assistant'), msg(4, 'assistant')]);
    expect(ids(t)).toEqual([1, 2, 3, 4]);
  });

  it('merges the agent’s own sent message with its polled copy', () => {
    const sent = msg(5, 'agent', 'On it!', { agent_name: 'Dana' });
    let t = mergeMessages([msg(1, 'user'), msg(4, 'user')], [sent]);
    // The poll started before the send returned: it brings 5 again, and a customer message 6.
    t = mergeMessages(t, [{ ...sent }, msg(6, 'user')]);
    expect(ids(t)).toEqual([1, 4, 5, 6]);
    expect(t.filter((m) => m.message === 'On it!')).toHaveLength(1);
  });

  it('fills a gap when a late message has a lower id', () => {
    const t = mergeMessages([msg(1, 'user'), msg(3, 'user')], [msg(2, 'assistant')]);
    expect(ids(t)).toEqual([1, 2, 3]);
  });

  it('returns the same array when nothing changed (no re-render)', () => {
    const t = [msg(1, 'user'), msg(2, 'assistant')];
    expect(mergeMessages(t, [])).toBe(t);
    expect(mergeMessages(t, [msg(2, 'assistant')])).toBe(t);
  });

  it('takes a changed copy of a message', () => {
    const t = mergeMessages([msg(2, 'assistant', 'partial')], [msg(2, 'assistant', 'whole answer')]);
    expect(t).toHaveLength(1);
    expect(t[0]!.message).toBe('whole answer');
  });

  it('ignores rows without a valid id and leaves its inputs alone', () => {
    const a = [msg(1, 'user')];
    const b = [msg(0, 'user'), msg(2, 'user')];
    const t = mergeMessages(a, b);
    expect(ids(t)).toEqual([1, 2]);
    expect(ids(a)).toEqual([1]);
    expect(ids(b)).toEqual([0, 2]);
  });
});

describe('lastMessageId', () => {
  it('is the highest id, 0 when empty', () => {
    expect(lastMessageId([])).toBe(0);
    expect(lastMessageId([msg(3, 'user'), msg(9, 'user'), msg(5, 'user')])).toBe(9);
  });
});

describe('displayRole and authorLabel', () => {
  it('tells the four kinds apart', () => {
    expect(displayRole(msg(1, 'user'))).toBe('user');
    expect(displayRole(msg(1, 'assistant'))).toBe('assistant');
    expect(displayRole(msg(1, 'assistant', 'x', { source: 'llm' }))).toBe('assistant');
    expect(displayRole(msg(1, 'agent'))).toBe('agent');
    expect(displayRole(msg(1, 'assistant', 'x', { source: 'system' }))).toBe('system');
  });

  it('names the author', () => {
    expect(authorLabel(msg(1, 'user'))).toBe('Customer');
    expect(authorLabel(msg(1, 'assistant'))).toBe('Bot');
    expect(authorLabel(msg(1, 'agent', 'x', { agent_name: 'Dana' }))).toBe('Dana');
    expect(authorLabel(msg(1, 'agent'))).toBe('Support agent');
    expect(authorLabel(msg(1, 'assistant', 'x', { source: 'system' }))).toBe('Notice');
  });
});
