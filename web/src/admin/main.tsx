// The agent console: wires the browser (fetch, sessionStorage for the token,
// localStorage for the agent's name, history, timers) to the app.

import { render } from 'preact';
import { applyTheme, loadThemeChoice, resolveTheme } from '../chat/theme';
import { ApiClient } from './api';
import { Auth } from './auth';
import { browserTimers } from './poller';
import { Router } from './router';
import { TokenStore, type KeyValue } from './storage';
import { App } from './ui/App';
import './admin.css';

function storage(kind: 'sessionStorage' | 'localStorage'): KeyValue | null {
  try {
    const s = window[kind];
    const probe = 'parley.admin.probe';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return null; // disabled: kept in memory for this page
  }
}

// Light or dark as the chat page does: the saved choice, else the system's.
const local = storage('localStorage');
const mq = window.matchMedia('(prefers-color-scheme: dark)');
const applySystemTheme = () => applyTheme(resolveTheme(loadThemeChoice(local), mq.matches));
applySystemTheme();
mq.addEventListener('change', applySystemTheme);

const auth = new Auth(new TokenStore(storage('sessionStorage')));
const api = new ApiClient({
  fetch: (input, init) => window.fetch(input, init),
  token: () => auth.token(),
  onUnauthorized: (e) => auth.expire(`Signed out: the server refused the token (401: ${e.message}). Sign in again.`),
});
const router = new Router(window.history, window.location, window);

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App auth={auth} api={api} router={router} timers={browserTimers} now={() => Date.now()} local={local} doc={document} />, root);
}
