// @vitest-environment jsdom
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '../api';
import { makeMessage } from '../../../test/console-fakes';
import { MessageItem } from './MessageItem';

let root: HTMLElement;

beforeEach(() => {
  root = document.createElement('div');
  document.body.appendChild(root);
});

afterEach(() => {
  act(() => render(null, root));
  root.remove();
});

const message = (role: string, text: string, extra: Partial<Message> = {}): Message =>
  makeMessage(role, { id: 42, session_id: 7, message: text, created_at: '2026-01-01T10:00:00.000000Z', ...extra });

function show(m: Message) {
  act(() => render(<MessageItem message={m} now={Date.parse('2026-01-01T10:05:00Z')} />, root));
  const el = root.querySelector<HTMLElement>('[data-testid=message]')!;
  return { el, body: el.querySelector<HTMLElement>('[data-testid=message-body]')! };
}

/** No element that runs or loads anything, no handler, no script URL in any attribute. */
function expectHarmless(body: HTMLElement) {
  expect(body.querySelector('script, iframe, img, object, embed, svg, style, form, [style]')).toBeNull();
  for (const el of body.querySelectorAll('*')) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name).not.toMatch(/^on/i);
      expect(attr.value).not.toMatch(/^\s*(javascript|data|vbscript):/i);
    }
  }
}

const EVIL = [
  'Hi <img src=x onerror=alert(1)> there',
  '<script>alert(2)</script>',
  '[click me](javascript:alert(3))',
  '<a href="javascript:alert(4)">raw link</a>',
  '<iframe src="https://evil.example"></iframe>',
  '![pic](https://tracker.example/p.png)',
  '**bold** and `code`',
].join('\n\n');

describe('MessageItem', () => {
  it('neutralises markup in a bot message and keeps the Markdown', () => {
    const { el, body } = show(message('assistant', EVIL, { source: 'llm' }));
    expect(el.dataset.role).toBe('assistant');
    expect(el.dataset.messageId).toBe('42');
    expectHarmless(body);
    for (const a of body.querySelectorAll('a[href]')) expect(a.getAttribute('rel')).toContain('noopener');
    // The javascript: links lost their address.
    expect(Array.from(body.querySelectorAll('a'), (a) => a.textContent)).toContain('click me');
    expect(body.querySelector('a:not([href])')?.textContent).toBe('click me');
    // Raw HTML stays visible as text, harmlessly.
    expect(body.textContent).toContain('<img src=x onerror=alert(1)>');
    expect(body.querySelector('strong')?.textContent).toBe('bold');
    expect(body.querySelector('code')?.textContent).toBe('code');
    // The remote image became a plain link.
    expect(body.querySelector('a[href="https://tracker.example/p.png"]')).not.toBeNull();
  });

  it('neutralises an agent message the same way', () => {
    const { el, body } = show(message('agent', EVIL, { agent_name: 'Dana <b>' }));
    expect(el.dataset.role).toBe('agent');
    expect(el.textContent).toContain('Dana <b>');
    expectHarmless(body);
  });

  it('shows a customer message as text, never as markup', () => {
    const text = '<img src=x onerror=alert(1)> <b>bold?</b> **not markdown** <script>alert(1)</script>';
    const { el, body } = show(message('user', text));
    expect(el.dataset.role).toBe('user');
    expect(body.children).toHaveLength(0);
    expect(body.textContent).toBe(text);
  });

  it('marks system notices and names the bot’s source', () => {
    const { el } = show(message('assistant', "You're back with the bot.", { source: 'system' }));
    expect(el.dataset.role).toBe('system');
    const bot = show(message('assistant', 'hello', { source: 'fallback' }));
    expect(bot.el.textContent).toContain('Bot');
    expect(bot.el.textContent).toContain('rules');
  });
});
