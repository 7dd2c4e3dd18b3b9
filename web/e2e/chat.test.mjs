// The chat page against the real server and a streaming mock LLM: connection
// state, suggestions, streaming (typing, growing text, final answer), Enter
// and Shift+Enter, Stop, and the page's Content-Security-Policy.

import { assert, chatMessages, e2eSuite, expectEventually, sendChat, waitConnected, waitForReply } from './harness.mjs';

const suite = e2eSuite();
let server;

// Each reply: 600 ms before its first piece (the typing indicator shows), then
// 8 pieces 250 ms apart (about 2 s of visible streaming).
async function startServer() {
  if (server) return server;
  const llm = await suite.mock(['--latency-ms', '600', '--chunks', '8', '--chunk-delay-ms', '250']);
  server = await suite.parley({ llm, router: 'rules', echoRules: true });
  return server;
}

/** Records in the page how the last assistant message changes (MutationObserver: no change is missed). */
async function recordReplies(page) {
  await page.evaluate(() => {
    const rec = [];
    window.__replyLog = rec;
    const snap = () => {
      const els = document.querySelectorAll('[data-testid=message-list] [data-testid=message][data-role=assistant]');
      const el = els[els.length - 1];
      if (!el) return;
      const body = el.querySelector('[data-testid=message-body]');
      let text = '';
      if (body) {
        const copy = body.cloneNode(true);
        copy.querySelectorAll('.sr-only').forEach((s) => s.remove());
        text = copy.textContent.trim();
      }
      const typing = el.querySelector('[data-testid=typing]') !== null;
      const entry = { n: els.length, status: el.dataset.status, typing, text };
      const last = rec[rec.length - 1];
      if (!last || last.n !== entry.n || last.status !== entry.status || last.typing !== entry.typing || last.text !== entry.text) rec.push(entry);
    };
    new MutationObserver(snap).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    snap();
  });
}

suite.test('the page loads under its CSP, connects, and a suggestion sends its text', async (env) => {
  const s = await startServer();
  const { page, response } = await env.page(`${s.url}/`);

  const csp = response.headers()['content-security-policy'];
  assert.ok(csp, 'GET / has a Content-Security-Policy header');
  assert.match(csp, /(^|;)\s*script-src 'self'\s*(;|$)/, `script-src is 'self' only: ${csp}`);
  assert.match(csp, /(^|;)\s*default-src 'self'/, csp);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, csp);
  assert.match(csp, /frame-ancestors 'none'/, csp);

  await waitConnected(page);
  assert.ok((await page.evaluate(() => window.__parley.sessionId)) > 0, 'window.__parley names the session');

  // The chips come from GET /api/chat/config (the page shows defaults until it answers).
  const config = (await (await fetch(`${s.url}/api/chat/config`)).json()).data;
  assert.ok(config.suggestions.length >= 2, 'config/web.json has suggestions');
  const chips = page.locator('[data-testid=suggestion]');
  await expectEventually(async () => assert.deepEqual(await chips.allTextContents().then((t) => t.map((x) => x.trim())), config.suggestions.map((x) => x.label)), {
    message: 'the suggestion chips of /api/chat/config',
  });
  await expectEventually(async () => assert.equal(await page.title(), config.title), { message: 'the title from the config' });

  // "Where is my order 124?": an order lookup (the mock LLM words the tool's result).
  const pick = config.suggestions[0];
  await chips.nth(0).click();
  const reply = await waitForReply(page, pick.text);
  assert.ok(reply.text.length > 0, 'the suggestion was answered');
  const msgs = await chatMessages(page);
  assert.deepEqual(
    msgs.map((m) => [m.role, m.status]),
    [
      ['user', 'acked'],
      ['assistant', 'done'],
    ],
  );
  assert.equal(msgs[0].text, pick.text, 'the chip sent its text (not its label)');
  assert.ok(Number(msgs[0].id) > 0 && Number(msgs[1].id) > Number(msgs[0].id), `server ids: ${msgs[0].id}, ${msgs[1].id}`);
  assert.equal(await chips.count(), 0, 'the suggestions are gone once the conversation started');
});

suite.test('a streamed reply shows typing, grows, and ends as the full text; Enter sends, Shift+Enter breaks the line', async (env) => {
  const s = await startServer();
  const { page } = await env.page(`${s.url}/`);
  await waitConnected(page);
  await recordReplies(page);

  const text = 'Streaming check: please repeat this sentence back to me, word for word.';
  const input = page.locator('[data-testid=composer-input]');
  await input.fill(text);
  await input.press('Enter');
  await page.locator('[data-testid=message][data-role=assistant][data-status=streaming] [data-testid=typing]').waitFor();
  await page.locator('[data-testid=stop]').waitFor(); // stop shows while the answer is generated
  const reply = await waitForReply(page, text);
  assert.equal(reply.text, `Echo: ${text}`, 'the final message holds the whole answer');

  const log = await page.evaluate(() => window.__replyLog);
  const streaming = log.filter((e) => e.status === 'streaming');
  assert.ok(streaming.some((e) => e.typing && e.text === ''), `the typing indicator showed in the streaming placeholder: ${JSON.stringify(log)}`);
  // (The last piece completes the text before the final message replaces it.)
  const lengths = [...new Set(streaming.filter((e) => e.text).map((e) => e.text.length))];
  const partial = lengths.filter((len) => len < reply.text.length);
  assert.ok(partial.length >= 2, `at least two different partial lengths were shown: ${JSON.stringify(log)}`);
  for (const e of streaming.filter((x) => x.text))
    assert.ok(`Echo: ${text}`.startsWith(e.text), `a partial text is a prefix of the answer: ${JSON.stringify(e.text)}`);
  assert.ok(
    lengths.every((len, i) => i === 0 || len > lengths[i - 1]),
    `the text only grows: ${lengths}`,
  );
  assert.equal(log[log.length - 1].status, 'done');
  assert.equal(await page.locator('[data-testid=typing]').count(), 0, 'no typing indicator once done');
  await page.locator('[data-testid=stop]').waitFor({ state: 'detached' });

  // Shift+Enter inserts a newline; Enter sends both lines as one message.
  await input.fill('first line');
  await input.press('Shift+Enter');
  await input.pressSequentially('second line');
  assert.equal(await input.inputValue(), 'first line\nsecond line', 'Shift+Enter put a newline in the box');
  assert.equal((await chatMessages(page)).filter((m) => m.role === 'user').length, 1, 'Shift+Enter did not send');
  await input.press('Enter');
  const two = await waitForReply(page, 'first line\nsecond line');
  assert.match(two.text, /^Echo: first line\s+second line$/);
  const bubble = (await chatMessages(page)).filter((m) => m.role === 'user')[1];
  assert.equal(bubble.text, 'first line\nsecond line', 'the user bubble keeps the line break');

  // The send button works too.
  await input.fill('sent with the button');
  await page.locator('[data-testid=send]').click();
  await waitForReply(page, 'sent with the button');

  const msgs = await chatMessages(page);
  assert.deepEqual(
    msgs.map((m) => `${m.role}:${m.status}`),
    ['user:acked', 'assistant:done', 'user:acked', 'assistant:done', 'user:acked', 'assistant:done'],
  );
  const ids = msgs.map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, `distinct message ids: ${ids}`);
});

suite.test('without an LLM, the rules answer arrives whole and is revealed word by word', async (env) => {
  // `./tools/run` as a new user starts it: no LLM, the rules and the knowledge base.
  const s = await env.parley({});
  const { page } = await env.page(`${s.url}/`);
  await waitConnected(page);
  await recordReplies(page);
  const question = 'What is your return policy?';
  await sendChat(page, question);
  const reply = await waitForReply(page, question);
  const sessionId = await page.evaluate(() => window.__parley.sessionId);
  const stored = (await s.messages(sessionId)).find((m) => m.role === 'assistant');
  assert.ok(stored.message.length > 200, `a knowledge answer of some length: ${JSON.stringify(stored.message)}`);
  assert.match(reply.text, /return/i, 'the answer is about returns');

  const log = await page.evaluate(() => window.__replyLog);
  const shown = log.filter((e) => e.text && e.text !== reply.text);
  assert.ok(shown.length >= 3, `the answer showed in at least three steps before the whole: ${JSON.stringify(log)}`);
  assert.ok(
    shown.every((e) => e.text.length < reply.text.length),
    `each step shows less than the whole answer: ${JSON.stringify(shown.map((e) => e.text.length))}`,
  );
  assert.ok(log.some((e) => e.typing), 'typing showed first');
  assert.equal(log.at(-1).text, reply.text, 'it ends on the whole answer');
  assert.equal(await page.locator('[data-revealing]').count(), 0, 'nothing is left half shown');

  // A reload shows the same answer at once: only answers arriving live are revealed.
  await page.reload();
  await waitConnected(page);
  await recordReplies(page);
  const again = await waitForReply(page, question);
  assert.equal(again.text, reply.text);
  const after = await page.evaluate(() => window.__replyLog);
  assert.ok(
    after.every((e) => !e.text || e.text === reply.text),
    `after a reload the answer is never partial: ${JSON.stringify(after)}`,
  );
});

suite.test('Stop cancels a slow reply and keeps the text so far', async (env) => {
  // A slow answer of its own: 40 pieces 150 ms apart leave ample time to stop it.
  const llm = await env.mock(['--chunks', '40', '--chunk-delay-ms', '150']);
  const s = await env.parley({ llm, router: 'rules', echoRules: true });
  const { page } = await env.page(`${s.url}/`);
  await waitConnected(page);
  const text = `Tell me a long story. ${'Once upon a time there was a very patient parrot. '.repeat(6)}`.trim();
  const full = `Echo: ${text}`;
  await sendChat(page, text);
  // Once the first pieces show, stop.
  await expectEventually(
    async () => {
      const last = (await chatMessages(page)).at(-1);
      assert.equal(last.role, 'assistant');
      assert.equal(last.status, 'streaming');
      assert.ok(last.text, 'some text streamed');
    },
    { interval: 25, message: 'the first streamed piece' },
  );
  await page.locator('[data-testid=stop]').click();
  const reply = await waitForReply(page, text);
  assert.ok(reply.text.length > 0, 'the text streamed before the stop is kept');
  assert.ok(reply.text.length < full.length, `the reply stops short of the full text (${reply.text.length} < ${full.length})`);
  assert.ok(full.startsWith(reply.text), `the reply is the start of the answer: ${JSON.stringify(reply.text)}`);
  assert.match(reply.all, /Stopped/, 'the reply says it was stopped (finish_reason cancelled)');
  await page.locator('[data-testid=stop]').waitFor({ state: 'detached' });

  // The stored answer is the cut one, marked cancelled, and the chat goes on.
  const sessionId = await page.evaluate(() => window.__parley.sessionId);
  const stored = await s.messages(sessionId);
  const answer = stored.find((m) => m.role === 'assistant');
  assert.equal(answer.message.trim(), reply.text, 'the server stored what the page shows');
  await sendChat(page, 'are you still there?');
  const next = await waitForReply(page, 'are you still there?');
  assert.equal(next.text, 'Echo: are you still there?');
});

suite.test('Stop before the first piece: a small "Stopped" note, no empty bubble', async (env) => {
  // A long wait before the first piece: the typing indicator shows, nothing streamed yet.
  const llm = await env.mock(['--latency-ms', '20000', '--chunks', '4', '--chunk-delay-ms', '100']);
  const s = await env.parley({ llm, router: 'rules', echoRules: true });
  const { page } = await env.page(`${s.url}/`);
  await waitConnected(page);
  const text = 'Please think about this one for a while.';
  await sendChat(page, text);
  await page.locator('[data-testid=message][data-role=assistant][data-status=streaming] [data-testid=typing]').waitFor();
  await page.locator('[data-testid=stop]').click();
  const reply = await waitForReply(page, text);
  assert.equal(reply.typing, false);
  const note = page.locator('[data-testid=message][data-role=assistant]').last();
  assert.equal(await note.getAttribute('data-finish-reason'), 'cancelled');
  assert.equal(await note.locator('.bubble').count(), 0, 'no empty bubble');
  // (The screen-reader prefix names the assistant.)
  assert.match(await note.innerText(), /^(\S.*:\s*)?Stopped\s*$/);
  const box = await note.boundingBox();
  assert.ok(box && box.height < 40, `a small note, not a bubble: ${JSON.stringify(box)}`);
  await page.locator('[data-testid=stop]').waitFor({ state: 'detached' });

  // Stored empty and cancelled; the chat goes on.
  const sessionId = await page.evaluate(() => window.__parley.sessionId);
  const answer = (await s.messages(sessionId)).find((m) => m.role === 'assistant');
  assert.equal(answer.message, '', 'the server stored the empty answer');
  assert.equal((await chatMessages(page)).length, 2);
});
