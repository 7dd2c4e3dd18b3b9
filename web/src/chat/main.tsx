// The chat page: wires the browser (WebSocket, timers, localStorage, online
// events) to the controller and renders the view.

import { render } from 'preact';
import { fetchConfig } from './config';
import { ChatConnection } from './connection';
import { ChatController } from './controller';
import { socketUrl } from './protocol';
import { ChatStorage, MemoryStore, STORAGE_PREFIX, type KeyValueStore } from './storage';
import { App } from './ui/App';
import './styles.css';

function browserStorage(): Storage | null {
  try {
    const s = window.localStorage;
    const probe = `${STORAGE_PREFIX}probe`;
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return null; // disabled or sandboxed: keep things in memory for this page
  }
}

function randomId(): string {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('').slice(0, 10);
}

const local = browserStorage();
const store: KeyValueStore = local ?? new MemoryStore();
const storage = new ChatStorage(store);

const connection = new ChatConnection({
  createSocket: (url) => new WebSocket(url),
  buildUrl: (resume) => socketUrl(window.location, resume),
  clock: {
    now: () => Date.now(),
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (h) => window.clearTimeout(h as number),
  },
  random: Math.random,
  isOnline: () => navigator.onLine !== false,
});

const controller = new ChatController({ storage, connection, now: () => Date.now(), pageId: randomId() });

// For the browser tests: a read-only snapshot, nothing else.
Object.defineProperty(window, '__parley', {
  get: () => Object.freeze(controller.snapshot()),
  configurable: false,
  enumerable: false,
});

window.addEventListener('online', () => controller.setOnline(true));
window.addEventListener('offline', () => controller.setOnline(false));
window.addEventListener('storage', (e) => {
  if (e.key === null || e.key.startsWith(STORAGE_PREFIX)) controller.refreshHistory();
});
document.addEventListener('visibilitychange', () => {
  // Back on the page: don't make the reader wait for the backoff timer.
  if (document.visibilityState === 'visible') controller.retryNow();
});

controller.init();
void fetchConfig().then((config) => controller.setConfig(config));

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App controller={controller} themeStore={local} />, root);
}
