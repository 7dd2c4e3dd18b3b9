// @vitest-environment jsdom
//
// The console against a running Parley, driven like an agent would drive it
// while a customer chats over REST. Skipped unless PARLEY_ADMIN_SMOKE_URL
// names a server and PARLEY_ADMIN_SMOKE_TOKEN its admin token:
//
//   PARLEY_ADMIN_TOKEN=0123456789abcdef0123 build/parley --port 3999 &
//   PARLEY_ADMIN_SMOKE_URL=http://127.0.0.1:3999 PARLEY_ADMIN_SMOKE_TOKEN=0123456789abcdef0123 \
//     npx vitest run src/admin/ui/RealServer.smoke.test.tsx
//
// The server's database gets a few sessions and a changed-then-restored
// setting; use a scratch one.

import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../api';
import { Auth } from '../auth';
import { Router } from '../router';
import { TokenStore } from '../storage';
import { FakeClock } from '../../../test/fakes';
import { MemoryStore } from '../../chat/storage';
import { App } from './App';

const BASE = process.env.PARLEY_ADMIN_SMOKE_URL ?? '';
const TOKEN = process.env.PARLEY_ADMIN_SMOKE_TOKEN ?? '';

async function customer(message: string, session?: { id: number; token: string }) {
  const res = await fetch(`${BASE}/api/chat/send`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ message, user_email: 'smoke@example.com', ...(session ? { session_id: session.id, resume_token: session.token } : {}) }),
  });
  const body = (await res.json()) as { data: { session_id: number; resume_token?: string } };
  return { id: body.data.session_id, token: body.data.resume_token ?? session?.token ?? '' };
}

describe.skipIf(!BASE || !TOKEN)('the console against a real server', () => {
  const root = document.createElement('div');
  document.body.appendChild(root);
  const timers = new FakeClock();
  let path = '/admin';
  const listeners = new Set<() => void>();
  const router = new Router(
    { pushState: (_d, _u, url) => void (path = String(url)), replaceState: (_d, _u, url) => void (path = String(url)) },
    {
      get pathname() {
        return path;
      },
    },
    { addEventListener: (_t, fn) => listeners.add(fn), removeEventListener: (_t, fn) => listeners.delete(fn) },
  );
  const auth = new Auth(new TokenStore(new MemoryStore()));
  const api = new ApiClient({ fetch: (u, i) => fetch(u, i), base: BASE, token: () => auth.token(), onUnauthorized: (e) => auth.expire(e.message) });
  const $ = <T extends HTMLElement = HTMLElement>(sel: string) => root.querySelector<T>(sel);
  const $$ = (sel: string) => Array.from(root.querySelectorAll<HTMLElement>(sel));

  /** Runs the console's timers by `ms` and waits (really) until `ok()` holds. */
  async function until(ok: () => boolean, ms = 0, what = 'condition') {
    if (ms) act(() => timers.advance(ms));
    for (let i = 0; i < 100; i++) {
      await act(async () => {
        await new Promise((r) => setTimeout(r, 30));
      });
      if (ok()) return;
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  async function type(el: HTMLInputElement | HTMLTextAreaElement | null, value: string) {
    act(() => {
      el!.value = value;
      el!.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await until(() => true);
  }
  function click(el: Element | null) {
    if (!el) throw new Error('nothing to click');
    act(() => (el as HTMLElement).click());
  }

  afterAll(() => {
    act(() => render(null, root));
    router.dispose();
  });

  it('signs in, takes a handoff, answers, releases, and uses settings and knowledge', async () => {
    act(() => render(<App auth={auth} api={api} router={router} timers={timers} now={() => Date.now()} local={new MemoryStore()} />, root));

    await type($('[data-testid=token-input]') as HTMLInputElement, 'not-the-token-at-all');
    click($('[data-testid=token-submit]'));
    await until(() => /401/.test($('[data-testid=token-error]')?.textContent ?? ''), 0, 'the 401');
    await type($('[data-testid=token-input]') as HTMLInputElement, TOKEN);
    click($('[data-testid=token-submit]'));
    await until(() => $('[data-testid=sign-out]') !== null, 0, 'sign-in');
    await until(() => $('[data-testid=health-db]')?.dataset.state === 'ok' && $('[data-testid=health-llm]')?.dataset.state !== 'unknown', 0, 'health');

    // A customer asks for a human.
    const s = await customer('Hello, my order is late');
    await customer('I want to talk to a human', s);
    await until(() => $(`[data-testid=handoff-item][data-session-id="${s.id}"]`) !== null, 3000, 'the handoff in the queue');
    expect(Number($('[data-testid=handoff-count]')?.textContent)).toBeGreaterThanOrEqual(1);
    click($(`[data-testid=handoff-item][data-session-id="${s.id}"]`));
    expect(path).toBe(`/admin/sessions/${s.id}`);
    await until(() => $$('[data-testid=message]').length === 4, 0, 'the transcript');
    expect($('[data-testid=session-status]')?.textContent).toBe('handoff');
    // The server titled the session after the customer's first message.
    expect($('.session-head [data-testid=session-title]')?.textContent).toBe('Hello, my order is late');
    expect($$('[data-testid=message]').map((m) => m.dataset.role)).toEqual(['user', 'assistant', 'user', 'assistant']);

    // The customer writes again (with HTML), it shows up as text.
    await customer('still there? <img src=x onerror=alert(1)>', s);
    await until(() => $$('[data-testid=message]').length === 5, 1500, 'the new customer message');
    const last = $$('[data-testid=message]').at(-1)!;
    expect(last.querySelector('[data-testid=message-body]')!.textContent).toBe('still there? <img src=x onerror=alert(1)>');
    expect(last.querySelector('img')).toBeNull();

    // The agent answers: once, however often the transcript is polled.
    await type($('[data-testid=agent-name-input]') as HTMLInputElement, 'Dana');
    await type($('[data-testid=reply-input]') as HTMLTextAreaElement, 'Hi, **Dana** here. Let me check.');
    act(() => {
      $('[data-testid=reply-input]')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    });
    await until(() => $$('[data-testid=message][data-role=agent]').length === 1, 0, 'the agent message');
    await until(() => true, 1500);
    await until(() => true, 1500);
    expect($$('[data-testid=message][data-role=agent]')).toHaveLength(1);
    expect($('[data-testid=message][data-role=agent] strong')?.textContent).toBe('Dana');

    // Release to the bot; then there is nothing to release: the button is
    // off, and the server would say 409.
    expect($<HTMLButtonElement>('[data-testid=release]')!.disabled).toBe(false);
    click($('[data-testid=release]'));
    await until(() => $('[data-testid=session-status]')?.textContent === 'active', 0, 'the release');
    await until(() => $$('[data-testid=message][data-role=system]').length === 1, 0, 'the release notice');
    expect($<HTMLButtonElement>('[data-testid=release]')!.disabled).toBe(true);
    await expect(api.release(s.id)).rejects.toMatchObject({ status: 409 });
    await until(() => !$(`[data-testid=handoff-item][data-session-id="${s.id}"]`), 3000, 'the queue to empty');

    // Settings: change one and put it back.
    click($('[data-testid=nav-settings]'));
    await until(() => $('[data-testid=setting][data-key=welcome_message]') !== null, 0, 'settings');
    const row = $('[data-testid=setting][data-key=welcome_message]')!;
    const input = row.querySelector<HTMLInputElement>('[data-testid=setting-value]')!;
    const before = input.value;
    await type(input, `${before} (smoke)`);
    click(row.querySelector('[data-testid=setting-save]'));
    await until(() => row.dataset.state === 'saved', 0, 'the save');
    await type(input, before);
    click(row.querySelector('[data-testid=setting-save]'));
    await until(() => row.dataset.state === 'saved' && input.value === before, 0, 'the restore');

    // Knowledge.
    click($('[data-testid=nav-knowledge]'));
    await until(() => $('[data-testid=knowledge-query]') !== null, 0, 'knowledge');
    await type($('[data-testid=knowledge-query]') as HTMLInputElement, 'return policy');
    click($('[data-testid=knowledge-search]'));
    await until(() => $$('[data-testid=knowledge-result]').length > 0, 0, 'search results');
    click($('[data-testid=knowledge-reload]'));
    await until(() => /documents/.test($('[data-testid=knowledge-reload-result]')?.textContent ?? ''), 0, 'the reload');

    // Sign out.
    click($('[data-testid=sign-out]'));
    await until(() => $('[data-testid=token-input]') !== null, 0, 'sign-out');
  }, 60_000);
});
