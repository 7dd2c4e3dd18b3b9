// @vitest-environment jsdom
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { greet, harness, type Harness } from '../../../test/fakes';
import { ChatController } from '../controller';
import { ChatStorage, MemoryStore } from '../storage';
import { App } from './App';

let root: HTMLElement;
let h: Harness;
let controller: ChatController;

const $ = <T extends Element = HTMLElement>(sel: string) => root.querySelector<T>(sel);
const $$ = (sel: string) => Array.from(root.querySelectorAll<HTMLElement>(sel));
const messages = () => $$('[data-testid=message]');

function mount(store = new MemoryStore()) {
  h = harness();
  controller = new ChatController({ storage: new ChatStorage(store), connection: h.connection, now: () => h.clock.now(), pageId: 'ui' });
  controller.setConfig({
    title: 'Northwind Support',
    greeting: 'Hi! Ask us anything.',
    suggestions: [
      { label: 'Track my order', text: 'Where is my order?' },
      { label: 'Returns', text: 'What is your return policy?' },
    ],
    maxMessageBytes: 64,
  });
  act(() => {
    controller.init();
    render(<App controller={controller} themeStore={window.localStorage} />, root);
  });
}

/** Runs `fn` (socket traffic, clicks) and lets the view catch up. */
function step(fn: () => void) {
  act(fn);
}

function type(text: string) {
  const input = $<HTMLTextAreaElement>('[data-testid=composer-input]')!;
  step(() => {
    input.value = text;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
  return input;
}

function press(el: Element, key: string, opts: KeyboardEventInit = {}) {
  step(() => {
    el.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...opts }));
  });
}

function click(el: Element | null) {
  if (!el) throw new Error('nothing to click');
  step(() => (el as HTMLElement).click());
}

beforeEach(() => {
  vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => {
    cb(0);
    return 0;
  });
  window.localStorage.clear();
  delete document.documentElement.dataset.theme;
  root = document.createElement('div');
  document.body.appendChild(root);
});

afterEach(() => {
  act(() => render(null, root));
  root.remove();
  vi.unstubAllGlobals();
});

describe('the chat page', () => {
  it('shows the connection state and the title from the config', () => {
    mount();
    const state = $('[data-testid=connection-state]')!;
    expect(state.dataset.state).toBe('connecting');
    step(() => greet(h.last(), 7, 'tok', 1));
    expect(state.dataset.state).toBe('connected');
    expect($('h1')?.textContent).toBe('Northwind Support');
    step(() => h.last().serverClose(1006));
    expect($('[data-testid=connection-state]')!.dataset.state).toBe('reconnecting');
  });

  it('offers suggestions on an empty conversation; one click sends its text', () => {
    mount();
    step(() => greet(h.last(), 7, 'tok', 1));
    const chips = $$('[data-testid=suggestion]');
    expect(chips.map((c) => c.textContent)).toEqual(['Track my order', 'Returns']);
    click(chips[0]!);
    expect(h.last().messages().map((m) => m.text)).toEqual(['Where is my order?']);
    expect($$('[data-testid=suggestion]')).toHaveLength(0);
    const [m] = messages();
    expect(m!.dataset.role).toBe('user');
    expect(m!.dataset.status).toBe('sent');
    expect(m!.dataset.clientId).toMatch(/^c-ui-/);
    step(() => h.last().receive({ type: 'ack', seq: 2, id: m!.dataset.clientId!, message_id: 10 }));
    expect(messages()[0]!.dataset.status).toBe('acked');
    expect(messages()[0]!.dataset.messageId).toBe('10');
  });

  it('the message list is a polite live log', () => {
    mount();
    const list = $('[data-testid=message-list]')!;
    expect(list.getAttribute('role')).toBe('log');
    expect(list.getAttribute('aria-live')).toBe('polite');
  });

  it('Enter sends, Shift+Enter does not, blank text is never sent', () => {
    mount();
    step(() => greet(h.last(), 7, 'tok', 1));
    let input = type('   ');
    press(input, 'Enter');
    click($('[data-testid=send]'));
    expect(h.last().messages()).toEqual([]);
    input = type('line one');
    press(input, 'Enter', { shiftKey: true });
    expect(h.last().messages()).toEqual([]);
    press(input, 'Enter');
    expect(h.last().messages().map((m) => m.text)).toEqual(['line one']);
    expect($<HTMLTextAreaElement>('[data-testid=composer-input]')!.value).toBe('');
  });

  it('refuses text over the byte limit with a message, and keeps the text', () => {
    mount();
    step(() => greet(h.last(), 7, 'tok', 1));
    type('€'.repeat(30)); // 30 characters, 90 bytes > 64
    click($('[data-testid=send]'));
    expect(h.last().messages()).toEqual([]);
    expect($('[data-testid=composer-error]')?.textContent).toMatch(/too long/);
    expect($<HTMLTextAreaElement>('[data-testid=composer-input]')!.value).toBe('€'.repeat(30));
  });

  it('shows user text as text, never as HTML', () => {
    mount();
    step(() => greet(h.last(), 7, 'tok', 1));
    type('<img src=x onerror="window.__pwned=1"> **not bold**');
    click($('[data-testid=send]'));
    const body = $('[data-testid=message-body]')!;
    expect(body.querySelector('img, strong')).toBeNull();
    expect(body.textContent).toBe('<img src=x onerror="window.__pwned=1"> **not bold**');
  });

  it('streams an answer: typing, deltas, Stop, then the final Markdown', () => {
    mount();
    step(() => greet(h.last(), 7, 'tok', 1));
    type('Where is order 124?');
    click($('[data-testid=send]'));
    const s = h.last();
    const id = s.messages()[0]!.id;
    step(() => {
      s.receive({ type: 'ack', seq: 2, id, message_id: 10 });
      s.receive({ type: 'typing', seq: 3 });
    });
    expect($('[data-testid=typing]')).not.toBeNull();
    expect($('[data-testid=stop]')).not.toBeNull();
    step(() => s.receive({ type: 'delta', seq: 4, reply_to: 10, offset: 0, text: 'Order 124 has ' }));
    expect($('[data-testid=typing]')).toBeNull();
    const reply = messages()[1]!;
    expect(reply.dataset.role).toBe('assistant');
    expect(reply.dataset.status).toBe('streaming');
    expect(reply.querySelector('[data-testid=message-body]')!.textContent).toContain('Order 124 has');
    click($('[data-testid=stop]'));
    expect(s.frames().at(-1)).toEqual({ type: 'cancel', reply_to: 10 });
    step(() =>
      s.receive({ type: 'message', seq: 5, id: 11, reply_to: 10, role: 'assistant', text: 'Order 124 has **shipped**.', source: 'llm', finish_reason: 'cancelled' }),
    );
    const final = messages()[1]!;
    expect(final.dataset.status).toBe('done');
    expect(final.dataset.messageId).toBe('11');
    expect(final.querySelector('strong')?.textContent).toBe('shipped');
    expect(final.querySelector('[data-testid=message-body]')!.getAttribute('aria-hidden')).toBeNull();
    expect($('[data-testid=stop]')).toBeNull();
    expect(messages()).toHaveLength(2);
  });

  it('the handoff banner: as soon as the bot hands off, who joined once an agent writes, gone on handoff:false', () => {
    mount();
    step(() => greet(h.last(), 7, 'tok', 1));
    const s = h.last();
    step(() => {
      s.receive({ type: 'ack', seq: 2, id: null, message_id: 1, text: 'I want a human' });
      s.receive({ type: 'message', seq: 3, id: 2, reply_to: 1, role: 'assistant', text: 'Connecting you with our team.', source: 'fallback', handoff: true });
    });
    const banner = () => $('[data-testid=handoff-banner]');
    expect(banner()?.dataset.state).toBe('waiting');
    expect(banner()?.textContent).toMatch(/human agent/i);
    expect(banner()?.textContent).not.toContain('has joined');
    step(() =>
      s.receive({ type: 'message', seq: 4, id: 3, reply_to: null, role: 'agent', text: 'Hi, Dana here.', source: 'agent', agent_name: 'Dana' }),
    );
    const agent = messages()[2]!;
    expect(agent.dataset.role).toBe('agent');
    expect(agent.querySelector('[data-testid=agent-name]')?.textContent).toBe('Dana');
    expect(banner()?.dataset.state).toBe('joined');
    expect(banner()?.textContent).toContain('A human agent has joined');
    expect(banner()?.textContent).toContain('Dana');
    step(() =>
      s.receive({ type: 'message', seq: 5, id: 4, reply_to: null, role: 'assistant', text: "You're back with the assistant.", source: 'system', handoff: false }),
    );
    expect(messages()[3]!.dataset.role).toBe('system');
    expect(banner()).toBeNull();
  });

  it('a resumed session in handoff shows the banner from the session status', () => {
    mount();
    step(() => h.last().receive({ type: 'session', seq: 1, session_id: 7, resume_token: 'tok', resumed: false, status: 'handoff' }));
    expect($('[data-testid=handoff-banner]')?.dataset.state).toBe('waiting');
  });

  it('an answer stopped before its first word is a small "Stopped" note, not an empty bubble', () => {
    mount();
    step(() => greet(h.last(), 7, 'tok', 1));
    type('Tell me a story');
    click($('[data-testid=send]'));
    const s = h.last();
    const id = s.messages()[0]!.id;
    step(() => {
      s.receive({ type: 'ack', seq: 2, id, message_id: 10 });
      s.receive({ type: 'typing', seq: 3, reply_to: 10 });
    });
    click($('[data-testid=stop]'));
    expect(s.frames().at(-1)).toEqual({ type: 'cancel', reply_to: 10 });
    step(() => s.receive({ type: 'message', seq: 4, id: 11, reply_to: 10, role: 'assistant', text: '', source: 'llm', finish_reason: 'cancelled' }));
    expect(messages()).toHaveLength(2);
    const note = messages()[1]!;
    expect(note.dataset.status).toBe('done');
    expect(note.dataset.finishReason).toBe('cancelled');
    expect(note.querySelector('.bubble')).toBeNull();
    expect(note.querySelector('[data-testid=typing]')).toBeNull();
    expect(note.textContent).toContain('Stopped');
    expect($('[data-testid=stop]')).toBeNull();
  });

  it('another tab took the chat: a banner and a button to take it back', () => {
    mount();
    step(() => greet(h.last(), 7, 'tok', 1));
    step(() => h.last().serverClose(4000));
    expect($('[data-testid=replaced-banner]')?.textContent).toContain('open in another tab');
    expect($<HTMLTextAreaElement>('[data-testid=composer-input]')!.disabled).toBe(true);
    const before = h.sockets.length;
    click($('[data-testid=take-back]'));
    expect(h.sockets).toHaveLength(before + 1);
    expect($('[data-testid=replaced-banner]')).toBeNull();
  });

  it('the theme toggle cycles system → light → dark → system and remembers the choice', () => {
    mount();
    const initial = document.documentElement.dataset.theme;
    expect(['light', 'dark']).toContain(initial);
    const toggle = $('[data-testid=theme-toggle]')!;
    click(toggle);
    expect(document.documentElement.dataset.theme).toBe('light');
    expect(window.localStorage.getItem('parley.theme')).toBe('light');
    click(toggle);
    expect(document.documentElement.dataset.theme).toBe('dark');
    click(toggle);
    expect(window.localStorage.getItem('parley.theme')).toBeNull();
  });

  it('lists past conversations and opens one', () => {
    const store = new MemoryStore();
    store.setItem('parley.v1.history', JSON.stringify([{ sessionId: 12, resumeToken: 'tk12', title: 'Returns question', createdAt: 1, updatedAt: 1 }]));
    mount(store);
    step(() => greet(h.last(), 13, 'tok', 1));
    const toggle = $('[data-testid=history-toggle]')!;
    click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    const items = $$('[data-testid=history-item]');
    expect(items.map((i) => i.dataset.sessionId)).toEqual(['12']);
    expect(items[0]!.textContent).toContain('Returns question');
    click(items[0]!);
    expect($$('[data-testid=history-item]')).toHaveLength(0);
    expect(h.last().params().get('session_id')).toBe('12');
    expect(h.last().params().get('last_seq')).toBe('0');
  });

  it('shows "Jump to latest" when scrolled up, and jumps', () => {
    mount();
    step(() => greet(h.last(), 7, 'tok', 1));
    type('hello');
    click($('[data-testid=send]'));
    const scroller = $('.scroller')!;
    Object.defineProperty(scroller, 'scrollHeight', { configurable: true, value: 2000 });
    Object.defineProperty(scroller, 'clientHeight', { configurable: true, value: 500 });
    expect($('[data-testid=jump-latest]')).toBeNull();
    step(() => {
      scroller.scrollTop = 100;
      scroller.dispatchEvent(new Event('scroll'));
    });
    expect($('[data-testid=jump-latest]')).not.toBeNull();
    // New messages do not pull a reader who scrolled up.
    step(() => h.last().receive({ type: 'message', seq: 2, id: 5, reply_to: null, role: 'agent', text: 'Hi', source: 'agent', agent_name: 'Sam' }));
    expect(scroller.scrollTop).toBe(100);
    click($('[data-testid=jump-latest]'));
    expect(scroller.scrollTop).toBe(2000);
    expect($('[data-testid=jump-latest]')).toBeNull();
  });
});
