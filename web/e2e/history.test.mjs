// The chat page's conversation history: two conversations (New chat in
// between), both listed in the history, the first reopened with its
// messages once each and still writable; then its local transcript removed
// (the history entry kept) and rebuilt from the server's replay. And the
// console's settings page: edit, save, check over REST, reload.

import { ADMIN_TOKEN, adminSignIn, assert, chatMessages, e2eSuite, expectEventually, sendChat, waitConnected, waitForReply } from './harness.mjs';

const suite = e2eSuite();

/** What must survive a reopen: role, server id, text (no typing, no streaming). */
const shape = (msgs) => msgs.map((m) => ({ role: m.role, id: m.id, text: m.text }));

/** Every message of the page once: no two with the same id, none without one. */
function assertOnce(msgs, what) {
  const ids = msgs.map((m) => m.id);
  assert.ok(ids.every((id) => id), `${what}: every message has an id: ${JSON.stringify(shape(msgs))}`);
  assert.equal(new Set(ids).size, ids.length, `${what}: no message twice: ${JSON.stringify(shape(msgs))}`);
  const texts = msgs.map((m) => `${m.role}:${m.text}`);
  assert.equal(new Set(texts).size, texts.length, `${what}: no text twice: ${JSON.stringify(texts)}`);
}

async function talk(page, text) {
  await sendChat(page, text);
  const reply = await waitForReply(page, text);
  assert.equal(reply.text, `Echo: ${text}`);
}

async function openHistory(page) {
  await page.locator('[data-testid=history-toggle]').click();
  await page.locator('[data-testid=history-item]').first().waitFor();
}

async function historyIds(page) {
  return page.$$eval('[data-testid=history-item]', (els) => els.map((el) => Number(el.dataset.sessionId)));
}

/** Opens `sessionId` from the history and waits until the page shows it connected with `expected` (shape). */
async function reopen(page, sessionId, expected, what) {
  await openHistory(page);
  await page.locator(`[data-testid=history-item][data-session-id="${sessionId}"]`).click();
  await expectEventually(async () => assert.equal(await page.evaluate(() => window.__parley.sessionId), sessionId), { message: `${what}: session ${sessionId} shown` });
  await waitConnected(page);
  return expectEventually(
    async () => {
      const msgs = await chatMessages(page);
      assert.deepEqual(shape(msgs), expected, `${what}: the transcript`);
      assert.ok(msgs.every((m) => !m.revealing && (m.status === 'done' || m.status === 'acked' || m.status === null)), `${what}: settled: ${JSON.stringify(msgs.map((m) => m.status))}`);
      return msgs;
    },
    { message: `${what}: the first conversation's messages` },
  );
}

suite.test('history: two conversations, reopen the first (once each, still writable), rebuild it from the server replay', async (env) => {
  const llm = await env.mock();
  const server = await env.parley({ llm, router: 'rules', echoRules: true });
  const { page } = await env.page(`${server.url}/`, { label: 'chat' });
  await waitConnected(page);

  // The first conversation.
  const first = ['Tell me about your blue widgets', 'And how heavy are they exactly'];
  for (const text of first) await talk(page, text);
  const firstId = await page.evaluate(() => window.__parley.sessionId);
  assert.ok(Number.isInteger(firstId) && firstId > 0, `the first session has an id: ${firstId}`);
  const firstMsgs = await chatMessages(page);
  assert.equal(firstMsgs.length, 4);
  assertOnce(firstMsgs, 'first conversation');
  const firstShape = shape(firstMsgs);

  // New chat: an empty page on a new session.
  await page.locator('[data-testid=new-chat]').click();
  await expectEventually(async () => assert.equal((await chatMessages(page)).length, 0), { message: 'an empty chat after New chat' });
  await waitConnected(page);
  const second = ['Do you ship parcels to Norway'];
  for (const text of second) await talk(page, text);
  const secondId = await page.evaluate(() => window.__parley.sessionId);
  assert.ok(Number.isInteger(secondId) && secondId > 0 && secondId !== firstId, `a second session: ${secondId} (first ${firstId})`);
  const secondShape = shape(await chatMessages(page));
  assert.deepEqual(secondShape.map((m) => m.text), [second[0], `Echo: ${second[0]}`], 'only the second conversation is shown');

  // The history lists both, by session id, with their titles.
  await openHistory(page);
  await expectEventually(async () => assert.deepEqual((await historyIds(page)).sort(), [firstId, secondId].sort()), { message: 'both conversations in the history' });
  assert.match(await page.locator(`[data-testid=history-item][data-session-id="${firstId}"]`).innerText(), /blue widgets/);
  assert.match(await page.locator(`[data-testid=history-item][data-session-id="${secondId}"]`).innerText(), /Norway/);
  await page.locator('#history-panel button[aria-label="Close history"]').click(); // modal: its own close button
  await page.locator('[data-testid=history-item]').first().waitFor({ state: 'detached' });

  // Reopen the first: the same messages (ids and texts), once each, also
  // after the server's replay (from seq 0) has come in.
  const reopened = await reopen(page, firstId, firstShape, 'reopened');
  assertOnce(reopened, 'reopened');

  // It is still writable: a new message lands in that session.
  const more = 'One more question about those widgets';
  await talk(page, more);
  const afterMore = await chatMessages(page);
  assert.equal(afterMore.length, 6);
  assertOnce(afterMore, 'after writing in the reopened conversation');
  assert.deepEqual(shape(afterMore).slice(0, 4), firstShape, 'the earlier messages unchanged');
  await expectEventually(
    async () => {
      const rows = await server.messages(firstId);
      assert.deepEqual(rows.filter((r) => r.role === 'user').map((r) => r.message), [...first, more], 'the first session holds each user message once, the new one too');
      assert.ok(rows.every((r) => r.session_id === firstId), 'every row belongs to the first session');
      const other = await server.messages(secondId);
      assert.ok(!other.some((r) => r.message === more), 'the new message is not in the second session');
    },
    { message: 'the new message stored in the first session' },
  );
  const fullShape = shape(afterMore);

  // Move to the second conversation, then drop the first one's local
  // transcript only (the history entry with its id and resume token stays).
  await reopen(page, secondId, secondShape, 'second again');
  const keys = await page.evaluate((id) => {
    const before = Object.keys(localStorage).sort();
    localStorage.removeItem(`parley.v1.session.${id}`);
    return { before, after: Object.keys(localStorage).sort(), history: JSON.parse(localStorage.getItem('parley.v1.history') ?? '[]') };
  }, firstId);
  assert.ok(keys.before.includes(`parley.v1.session.${firstId}`), `the first conversation had its own key: ${keys.before}`);
  assert.ok(!keys.after.includes(`parley.v1.session.${firstId}`));
  assert.ok(keys.after.includes(`parley.v1.session.${secondId}`), 'the second conversation is kept');
  const entry = keys.history.find((e) => e.sessionId === firstId);
  assert.ok(entry && typeof entry.resumeToken === 'string' && entry.resumeToken, 'the history entry keeps its resume token');

  // Reload (the page comes back on the second conversation) and reopen the
  // first: its transcript comes from the server's replay alone.
  await page.reload();
  await waitConnected(page);
  await expectEventually(async () => assert.deepEqual(shape(await chatMessages(page)), secondShape), { message: 'the second conversation after the reload' });
  const rebuilt = await reopen(page, firstId, fullShape, 'rebuilt from the replay');
  assertOnce(rebuilt, 'rebuilt from the replay');
  // It was stored again under its key.
  await expectEventually(
    async () => {
      const stored = await page.evaluate((id) => JSON.parse(localStorage.getItem(`parley.v1.session.${id}`) ?? 'null'), firstId);
      assert.ok(stored, 'the rebuilt transcript is stored again');
      assert.deepEqual(stored.messages.map((m) => m.text), fullShape.map((m) => m.text));
    },
    { message: 'the rebuilt transcript stored' },
  );
});

suite.test('console settings: edit a value, save, check over REST, reload', async (env) => {
  const server = await env.parley({});
  const all = (await server.api('/api/settings')).data;
  assert.ok(all.length > 0, 'the server has settings');
  const setting = all.find((s) => s.key === 'welcome_message') ?? all[0];
  const key = setting.key;
  const value = `e2e value ${Date.now()}`;
  assert.notEqual(setting.value, value);

  const { page } = await env.page(`${server.url}/admin`, { label: 'console' });
  await adminSignIn(page, ADMIN_TOKEN);
  await page.locator('[data-testid=nav-settings]').click();
  await page.waitForURL(/\/admin\/settings$/);
  const row = page.locator(`[data-testid=setting][data-key="${key}"]`);
  const input = row.locator('[data-testid=setting-value]');
  await expectEventually(async () => assert.equal(await input.inputValue(), setting.value), { message: `the current value of ${key}` });

  await input.fill(value);
  await row.locator('[data-testid=setting-save]').click();
  await page.locator(`[data-testid=setting][data-key="${key}"][data-state=saved]`).waitFor();
  assert.equal(await input.inputValue(), value);

  const stored = (await server.api(`/api/settings/${encodeURIComponent(key)}`)).data;
  assert.equal(stored.key, key);
  assert.equal(stored.value, value, 'the server has the new value');

  await page.reload();
  await expectEventually(async () => assert.equal(await page.locator(`[data-testid=setting][data-key="${key}"] [data-testid=setting-value]`).inputValue(), value), {
    message: 'the new value after a reload',
  });
});
