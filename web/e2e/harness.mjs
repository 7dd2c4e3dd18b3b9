// Shared harness of the browser end-to-end tests (web/e2e/*.test.mjs).
//
// Starts the real `parley` and `parley-mock-llm` (from $PARLEY_BUILD_DIR) on
// free ports with temporary folders, drives Chromium through playwright-core,
// and cleans everything up even when a test fails. Each *.test.mjs file is
// self-contained: `node --test --test-reporter=spec e2e/<file>` from web/.
//
// Environment:
//   PARLEY_BUILD_DIR       folder holding `parley` and `parley-mock-llm` (required)
//   PARLEY_WEB_DIR         the built web UI (`npm run build` output), passed as --web-dir (required)
//   PARLEY_TEST_ARTIFACTS  where screenshots and failure artefacts go
//                          (default: <os tmpdir>/parley-web-e2e)
//   PARLEY_CHROMIUM        the Chromium executable (default: /usr/bin/chromium)
//   PARLEY_E2E_ECHO        set: echo the servers' output to stderr

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export { assert };

export const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The repository's knowledge base (config/agent.json's answers come from it). */
export const KNOWLEDGE_DIR = path.join(REPO_DIR, 'knowledge');
export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
/** The default timeout of every wait: a busy CI machine is slow. */
export const WAIT_MS = 30_000;
/** node:test timeout of one test. */
export const TEST_TIMEOUT_MS = 180_000;

function requiredDir(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see web/e2e/README.md)`);
  if (!existsSync(value)) throw new Error(`${name}=${value} does not exist`);
  return path.resolve(value);
}

export const BUILD_DIR = requiredDir('PARLEY_BUILD_DIR');
export const WEB_DIR = requiredDir('PARLEY_WEB_DIR');
export const ARTIFACTS_DIR = path.resolve(process.env.PARLEY_TEST_ARTIFACTS || path.join(os.tmpdir(), 'parley-web-e2e'));
mkdirSync(ARTIFACTS_DIR, { recursive: true });
const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';
const ECHO = !!process.env.PARLEY_E2E_ECHO;

for (const exe of ['parley', 'parley-mock-llm'])
  if (!existsSync(path.join(BUILD_DIR, exe))) throw new Error(`${path.join(BUILD_DIR, exe)} does not exist`);
if (!existsSync(path.join(WEB_DIR, 'index.html'))) throw new Error(`${WEB_DIR} has no index.html: build the web UI first`);

// -- waiting -------------------------------------------------------------------

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `fn` until it returns without throwing (and its result is not
 * `false`), then returns the result. Assertions inside `fn` make the
 * condition; the last failure is reported at the timeout.
 */
export async function expectEventually(fn, { timeout = WAIT_MS, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value !== false) return value;
      last = new Error('returned false');
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const err = new Error(`timed out after ${timeout} ms waiting for ${message}: ${last?.message ?? last}`);
      err.cause = last;
      throw err;
    }
    await sleep(interval);
  }
}

// -- child processes -----------------------------------------------------------

const live = new Set();

function killAll() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  live.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    killAll();
    process.exit(128 + (os.constants.signals[sig] ?? 1));
  });

// Settings a developer's or CI's environment could carry into parley.
const CONFIG_VARS = /^(PARLEY_|LLM_|OPENAI_)|^(BACKEND_HOST|BACKEND_PORT|DATABASE_URL|KNOWLEDGE_DIR|AGENT_RULES|AGENT_ROUTER|DEMO_ORDERS|ENABLE_ADVANCED_AI|ALLOWED_ORIGINS|LOG_LEVEL|LOG_FORMAT)$/;

function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!CONFIG_VARS.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** One child process with its output kept as lines. */
export class Proc {
  constructor(name, exe, args, { cwd, env } = {}) {
    this.name = name;
    this.lines = [];
    this.exited = null; // { code, signal } once it ended
    this.waiters = new Set();
    this.child = spawn(exe, args, { cwd, env: env ?? cleanEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.child);
    this.pid = this.child.pid;
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        partial += chunk;
        let nl;
        while ((nl = partial.indexOf('\n')) >= 0) {
          this.addLine(partial.slice(0, nl));
          partial = partial.slice(nl + 1);
        }
      });
      stream.on('end', () => {
        if (partial) this.addLine(partial);
        partial = '';
      });
    }
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        live.delete(this.child);
        for (const w of this.waiters) w();
        resolve(this.exited);
      });
      this.child.on('error', (e) => {
        this.addLine(`[harness] cannot start ${exe}: ${e.message}`);
        this.exited = { code: -1, signal: null };
        live.delete(this.child);
        for (const w of this.waiters) w();
        resolve(this.exited);
      });
    });
  }

  addLine(line) {
    this.lines.push(line);
    if (ECHO) process.stderr.write(`[${this.name} ${this.pid}] ${line}\n`);
    for (const w of this.waiters) w();
  }

  get running() {
    return this.exited === null;
  }

  get log() {
    return this.lines.join('\n');
  }

  /** Waits for a line matching `re` (from line `from` on); returns the match. */
  waitForLine(re, { timeout = WAIT_MS, from = 0 } = {}) {
    return new Promise((resolve, reject) => {
      let next = from;
      const check = () => {
        for (; next < this.lines.length; next++) {
          const m = re.exec(this.lines[next]);
          if (m) return done(null, m);
        }
        if (this.exited) done(new Error(`${this.name} exited (${JSON.stringify(this.exited)}) before printing ${re}:\n${tail(this.log)}`));
      };
      const timer = setTimeout(() => done(new Error(`${this.name} did not print ${re} within ${timeout} ms:\n${tail(this.log)}`)), timeout);
      const done = (err, m) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve(m);
      };
      this.waiters.add(check);
      check();
    });
  }

  kill() {
    if (this.running) this.child.kill('SIGKILL');
    return this.exitPromise;
  }

  /** SIGTERM, then SIGKILL after `grace` ms. */
  async stop(grace = 10_000) {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), grace);
    const status = await this.exitPromise;
    clearTimeout(timer);
    return status;
  }
}

function tail(text, max = 20_000) {
  return text.length <= max ? text : `[... ${text.length} bytes, the end:]\n${text.slice(-max)}`;
}

export function tempDir(prefix) {
  return mkdtempSync(path.join(os.tmpdir(), `parley-web-e2e-${prefix}-`));
}

// -- the mock LLM --------------------------------------------------------------

export class MockLlm {
  /** `args`: extra flags, e.g. ['--chunks', '5', '--chunk-delay-ms', '150']. */
  static async start(args = []) {
    const mock = new MockLlm();
    mock.proc = new Proc('mock-llm', path.join(BUILD_DIR, 'parley-mock-llm'), ['--protocol', 'websocket', '--host', '127.0.0.1', '--port', '0', ...args]);
    const m = await mock.proc.waitForLine(/^mock llm listening on (\S+):(\d+)$/);
    mock.port = Number(m[2]);
    mock.url = `ws://127.0.0.1:${mock.port}/chat`;
    return mock;
  }

  async stats() {
    const res = await fetch(`http://127.0.0.1:${this.port}/stats`);
    return res.json();
  }

  stop() {
    return this.proc.stop();
  }
}

/**
 * config/agent.json without the knowledge-search intent and without the
 * hand-off after misunderstood messages. The rule router sends every message
 * that reads like a question (a `?`, or four words or more) to the knowledge
 * search, whose result the mock LLM answers as `Tool result: {json}`; with
 * these rules such messages go to the LLM as they are and the mock echoes
 * them (`Echo: <text>`). Orders and the hand-off work as usual.
 */
export function echoRules() {
  const rules = JSON.parse(readFileSync(path.join(REPO_DIR, 'config', 'agent.json'), 'utf8'));
  rules.intents = rules.intents.filter((i) => i.name !== 'KNOWLEDGE_QA');
  rules.settings.handoff_after_low_confidence = 0;
  return rules;
}

// -- parley --------------------------------------------------------------------

export class Parley {
  /**
   * options: `llm` (a MockLlm; none: no LLM, the rules answer), `router`
   * ('rules' | 'llm', default rules), `echoRules` (see echoRules()),
   * `knowledgeDir` (default: the repo's knowledge base), `args` (more
   * flags), `env` (more variables).
   */
  static async start(options = {}) {
    const p = new Parley();
    p.options = options;
    p.dir = tempDir('server');
    p.dbPath = path.join(p.dir, 'parley.db');
    p.generations = [];
    p.port = 0;
    if (options.echoRules) {
      p.rulesFile = path.join(p.dir, 'agent-echo.json');
      writeFileSync(p.rulesFile, JSON.stringify(echoRules(), null, 1));
    }
    await p.launch();
    return p;
  }

  args() {
    const o = this.options;
    const args = [
      '--host', '127.0.0.1',
      '--port', String(this.port),
      '--database-url', `sqlite:///${this.dbPath}`,
      '--data-dir', this.dir,
      '--web-dir', WEB_DIR,
      '--knowledge-dir', o.knowledgeDir ?? KNOWLEDGE_DIR,
      '--log-level', 'debug',
      '--shutdown-timeout', '3',
    ];
    if (this.rulesFile) args.push('--agent-rules', this.rulesFile);
    if (o.llm) args.push('--llm-provider', 'websocket', '--llm-url', o.llm.url);
    else args.push('--llm-provider', 'none');
    args.push(...(o.args ?? []));
    return args;
  }

  async launch() {
    const env = cleanEnv({ PARLEY_ADMIN_TOKEN: ADMIN_TOKEN, AGENT_ROUTER: this.options.router ?? 'rules', ...(this.options.env ?? {}) });
    // A restart on the same port may briefly find it taken (a slow kernel,
    // lingering sockets): try again a few times.
    for (let attempt = 0; ; attempt++) {
      const proc = new Proc('parley', path.join(BUILD_DIR, 'parley'), this.args(), { cwd: this.dir, env });
      this.generations.push(proc);
      this.proc = proc;
      try {
        const m = await proc.waitForLine(/listening on http:\/\/([^\s:]+|\[[^\]]+\]):(\d+)/);
        this.host = m[1];
        this.port = Number(m[2]);
        this.url = `http://127.0.0.1:${this.port}`;
        break;
      } catch (e) {
        await proc.kill();
        if (attempt >= 5 || !/in use|bind/i.test(proc.log)) throw e;
        await sleep(300 * (attempt + 1));
      }
    }
    if (this.options.llm) await this.proc.waitForLine(/LLM connected/);
  }

  /** SIGKILL: no clean stop, as in a crash. */
  async kill() {
    return this.proc.kill();
  }

  /** SIGTERM; the exit status. */
  async stop() {
    return this.proc.stop();
  }

  /** Starts again on the same port with the same database. */
  async restart() {
    if (this.proc.running) throw new Error('restart: parley still runs');
    await this.launch();
  }

  get log() {
    return this.generations.map((p, i) => `---- parley #${i + 1} (pid ${p.pid}, ${JSON.stringify(p.exited)}) ----\n${p.log}`).join('\n');
  }

  /** The admin REST API (GET unless `init` says otherwise); the parsed body. */
  async api(pathAndQuery, init = {}) {
    const res = await fetch(this.url + pathAndQuery, {
      ...init,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.body ? { 'Content-Type': 'application/json' } : {}), ...(init.headers ?? {}) },
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${pathAndQuery}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  }

  /** Every stored message of a session, oldest first. */
  async messages(sessionId) {
    const out = [];
    for (let page = 1; ; page++) {
      const body = await this.api(`/api/messages?session_id=${sessionId}&limit=100&page=${page}`);
      out.push(...body.data);
      if (page >= body.pagination.pages) return out;
    }
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// -- the browser ----------------------------------------------------------------

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

// Records CSP violations in the page (console messages say so too, but this
// catches every kind). Runs before the page's scripts; CSP does not apply to it.
const INIT_SCRIPT = `
  (() => {
    const list = [];
    Object.defineProperty(window, '__cspViolations', { value: list, configurable: false });
    document.addEventListener('securitypolicyviolation', (e) => {
      list.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
    }, true);
  })();
`;

/**
 * Everything one test opens: browser contexts and pages with their console
 * errors, servers and mocks. `close()` ends them all; a failure saves a
 * screenshot and the HTML of every open page plus the server logs.
 */
export class TestEnv {
  constructor(suite, name) {
    this.suite = suite;
    this.browser = suite.browser;
    this.name = name;
    this.slug = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 80);
    this.pages = [];
    this.contexts = [];
    this.servers = [];
    this.mocks = [];
    this.cleanups = [];
  }

  /** Runs `fn` after the pages, servers and mocks are closed (e.g. removes a folder they use). */
  onClose(fn) {
    this.cleanups.push(fn);
  }

  async mock(args) {
    const m = await MockLlm.start(args);
    this.mocks.push(m);
    return m;
  }

  async parley(options) {
    const p = await Parley.start(options);
    this.servers.push(p);
    return p;
  }

  /**
   * A page in a fresh context. `allow`: console errors matching any of these
   * regexps are expected (use allowErrors() to change them later).
   */
  async page(url, { label = `page${this.pages.length + 1}`, allow = [], viewport = { width: 1280, height: 800 }, ...contextOptions } = {}) {
    const context = await this.browser.newContext({ viewport, ...contextOptions });
    this.contexts.push(context);
    context.setDefaultTimeout(WAIT_MS);
    await context.addInitScript(INIT_SCRIPT);
    const page = await context.newPage();
    const entry = { page, context, label, allow: [...allow], problems: [], console: [] };
    this.pages.push(entry);
    page.on('console', (msg) => {
      const text = `${msg.type()}: ${msg.text()}`;
      entry.console.push(text);
      if (msg.type() !== 'error' && !/Content.Security.Policy/i.test(msg.text())) return;
      if (entry.allow.some((re) => re.test(msg.text()))) return;
      const loc = msg.location();
      entry.problems.push(`console ${text}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
    });
    page.on('pageerror', (err) => entry.problems.push(`pageerror: ${err.stack || err.message}`));
    page.on('crash', () => entry.problems.push('the page crashed'));
    if (url) {
      const response = await page.goto(url);
      entry.response = response;
    }
    return entry;
  }

  /** The console errors and CSP violations of all pages so far. */
  async problems() {
    const out = [];
    for (const e of this.pages) {
      let csp = [];
      try {
        if (!e.page.isClosed()) csp = await e.page.evaluate(() => [...(window.__cspViolations ?? [])]);
      } catch {
        /* navigating or closed */
      }
      out.push(...e.problems.map((p) => `[${e.label}] ${p}`), ...csp.map((v) => `[${e.label}] CSP violation: ${v}`));
    }
    return out;
  }

  async assertClean() {
    const problems = await this.problems();
    assert.deepEqual(problems, [], `unexpected console errors or CSP violations:\n${problems.join('\n')}`);
  }

  async saveArtefacts(error) {
    const dir = path.join(ARTIFACTS_DIR, 'failures', `${this.slug}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'error.txt'), `${error?.stack ?? error}\n`);
    for (const e of this.pages) {
      if (e.page.isClosed()) continue;
      try {
        await e.page.screenshot({ path: path.join(dir, `${e.label}.png`), fullPage: true, timeout: 10_000 });
      } catch (err) {
        writeFileSync(path.join(dir, `${e.label}.screenshot-error.txt`), String(err));
      }
      try {
        writeFileSync(path.join(dir, `${e.label}.html`), await e.page.content());
      } catch {
        /* closed */
      }
      writeFileSync(path.join(dir, `${e.label}.console.txt`), `${e.console.join('\n')}\n\nproblems:\n${e.problems.join('\n')}\n`);
    }
    [...this.suite.servers, ...this.servers].forEach((s, i) => writeFileSync(path.join(dir, `parley-${i + 1}.log`), s.log));
    [...this.suite.mocks, ...this.mocks].forEach((m, i) => writeFileSync(path.join(dir, `mock-${i + 1}.log`), m.proc.log));
    return dir;
  }

  async close() {
    for (const c of this.contexts) await c.close().catch(() => {});
    for (const s of this.servers) await s.stop().catch(() => {});
    for (const m of this.mocks) await m.stop().catch(() => {});
    for (const s of this.servers) s.cleanup();
    for (const fn of this.cleanups) await fn();
  }
}

/**
 * A test file's shared state: one Chromium (launched in `before`), and
 * servers and mocks that several tests use (started with `suite.parley()`
 * and `suite.mock()`, stopped in `after`). `suite.test(name, fn)` declares a
 * test that gets a TestEnv for its pages (and servers of its own). A test
 * fails on unexpected console errors or CSP violations; on failure the
 * artefacts are saved and the end of the server logs is added to the error.
 */
export function e2eSuite() {
  const suite = { browser: null, servers: [], mocks: [] };
  before(async () => {
    suite.browser = await launchBrowser();
  });
  after(async () => {
    await suite.browser?.close().catch(() => {});
    for (const s of suite.servers) await s.stop().catch(() => {});
    for (const m of suite.mocks) await m.stop().catch(() => {});
    for (const s of suite.servers) s.cleanup();
    killAll();
  });
  suite.parley = async (options) => {
    const p = await Parley.start(options);
    suite.servers.push(p);
    return p;
  };
  suite.mock = async (args) => {
    const m = await MockLlm.start(args);
    suite.mocks.push(m);
    return m;
  };
  suite.test = (name, fn, { timeout = TEST_TIMEOUT_MS } = {}) =>
    test(name, { timeout }, async (t) => {
      const env = new TestEnv(suite, name);
      env.t = t;
      try {
        await fn(env);
        await env.assertClean();
      } catch (error) {
        let where = '';
        try {
          where = await env.saveArtefacts(error);
        } catch (e) {
          where = `(could not save artefacts: ${e.message})`;
        }
        const logs = [...suite.servers, ...env.servers].map((s) => tail(s.log, 6000)).join('\n');
        if (error && typeof error === 'object') {
          const more = `\n\nartefacts: ${where}\nserver log (end):\n${logs}`;
          error.message += more;
          if (typeof error.stack === 'string') error.stack += more;
        }
        throw error;
      } finally {
        await env.close();
      }
    });
  return suite;
}

// -- the chat page ------------------------------------------------------------------

/** The chat's messages as data: role, status, ids, body text (without the screen-reader prefix). */
export function chatMessages(page) {
  return page.$$eval('[data-testid=message-list] [data-testid=message]', (els) =>
    els.map((el) => {
      const body = el.querySelector('[data-testid=message-body]');
      let text = null;
      if (body) {
        const copy = body.cloneNode(true);
        copy.querySelectorAll('.sr-only').forEach((s) => s.remove());
        text = copy.textContent.trim();
      }
      return {
        role: el.dataset.role,
        status: el.dataset.status ?? null,
        id: el.dataset.messageId ?? null,
        clientId: el.dataset.clientId ?? null,
        text,
        typing: !!el.querySelector('[data-testid=typing]'),
        revealing: el.dataset.revealing === 'true',
        agentName: el.querySelector('[data-testid=agent-name]')?.textContent.trim() ?? null,
        all: el.innerText,
      };
    }),
  );
}

export async function waitConnected(page, timeout = WAIT_MS) {
  await page.locator('[data-testid=connection-state][data-state=connected]').waitFor({ timeout });
}

/** Types `text` into the composer and sends it with Enter. */
export async function sendChat(page, text) {
  const input = page.locator('[data-testid=composer-input]');
  await input.fill(text);
  await input.press('Enter');
  await expectEventually(async () => assert.equal(await input.inputValue(), ''), { message: 'the composer to empty after sending' });
}

/** Waits until the last user message with `text` is answered; returns the answer. */
export async function waitForReply(page, userText, { timeout = WAIT_MS, roles = ['assistant'] } = {}) {
  return expectEventually(
    async () => {
      const msgs = await chatMessages(page);
      const i = msgs.findLastIndex((m) => m.role === 'user' && m.text === userText);
      assert.ok(i >= 0, `no user message ${JSON.stringify(userText)} in ${JSON.stringify(msgs.map((m) => m.text))}`);
      const reply = msgs.slice(i + 1).find((m) => roles.includes(m.role));
      assert.ok(reply, 'no reply yet');
      assert.equal(reply.status, 'done', 'the reply is still streaming');
      assert.ok(!reply.revealing, 'the reply is still being revealed');
      return reply;
    },
    { timeout, message: `the reply to ${JSON.stringify(userText)}` },
  );
}

// -- the console ---------------------------------------------------------------

export async function adminSignIn(page, token = ADMIN_TOKEN) {
  await page.locator('[data-testid=token-input]').fill(token);
  await page.locator('[data-testid=token-submit]').click();
  await page.locator('[data-testid=sign-out]').waitFor();
}

/** The console's transcript as data. */
export function adminMessages(page) {
  return page.$$eval('[data-testid=transcript] [data-testid=message]', (els) =>
    els.map((el) => ({
      role: el.dataset.role,
      id: el.dataset.messageId ?? null,
      text: el.querySelector('[data-testid=message-body]')?.textContent.trim() ?? null,
      all: el.innerText,
    })),
  );
}

/** Inside these bodies: nothing that runs code (scripts, handlers, javascript: URLs, SVG, frames). */
export function dangerousMarkup(page, selector) {
  return page.$$eval(selector, (bodies) => {
    const found = [];
    for (const body of bodies)
      for (const el of body.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        if (['script', 'svg', 'iframe', 'object', 'embed', 'math', 'style', 'link', 'meta', 'base', 'form'].includes(tag)) found.push(`<${tag}>`);
        for (const attr of el.getAttributeNames()) {
          const value = el.getAttribute(attr) ?? '';
          if (/^on/i.test(attr)) found.push(`<${tag} ${attr}=${JSON.stringify(value)}>`);
          if (/^(href|src|action|formaction|xlink:href|srcdoc)$/i.test(attr) && /^\s*(javascript|vbscript|data):/i.test(value.replace(/[\u0000-\u001f]/g, '')))
            found.push(`<${tag} ${attr}=${JSON.stringify(value)}>`);
          if (attr === 'srcdoc') found.push(`<${tag} srcdoc>`);
        }
      }
    return found;
  });
}
