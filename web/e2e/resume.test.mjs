// The chat survives a server crash: SIGKILL while an answer streams, a
// message written while the server is down, a restart on the same port and
// database. The page resumes; every message and answer shows exactly once,
// live and after a reload, and the database holds each message once.

import { assert, chatMessages, e2eSuite, expectEventually, sendChat, waitConnected, waitForReply } from './harness.mjs';

const suite = e2eSuite();

// The browser reports each refused reconnect attempt on its console.
const RECONNECT_ERRORS = [/WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/ws.*' failed/];

/** Role, id and text of each message: what must survive a resume and a reload. */
const shape = (msgs) => msgs.map((m) => ({ role: m.role, id: m.id, text: m.text }));

function assertNoDuplicates(msgs, what) {
  const ids = msgs.map((m) => m.id);
  assert.ok(
    ids.every((id) => id !== null && Number(id) > 0),
    `${what}: every message has a server id: ${JSON.stringify(msgs)}`,
  );
  assert.equal(new Set(ids).size, ids.length, `${what}: no message id shows twice: ${ids}`);
  const userTexts = msgs.filter((m) => m.role === 'user').map((m) => m.text);
  assert.equal(new Set(userTexts).size, userTexts.length, `${what}: no user message shows twice: ${JSON.stringify(userTexts)}`);
}

suite.test('a crash mid-answer and a restart: the page resumes with nothing lost or doubled', async (env) => {
  // Slow answers (10 pieces 300 ms apart) so that the crash hits one mid-stream.
  const llm = await env.mock(['--chunks', '10', '--chunk-delay-ms', '300']);
  const server = await env.parley({ llm, router: 'rules', echoRules: true });
  const { page } = await env.page(`${server.url}/`, { label: 'chat', allow: RECONNECT_ERRORS });
  await waitConnected(page);

  const texts = [
    'First message before the crash',
    'Second message before the crash',
    'Third message, its answer is cut by the crash',
    'Fourth message, written while the server is down',
  ];
  for (const t of texts.slice(0, 2)) {
    await sendChat(page, t);
    assert.equal((await waitForReply(page, t)).text, `Echo: ${t}`);
  }

  // The third answer streams; the server dies in the middle of it.
  await sendChat(page, texts[2]);
  await expectEventually(
    async () => {
      const last = (await chatMessages(page)).at(-1);
      assert.equal(last.role, 'assistant');
      assert.equal(last.status, 'streaming');
      assert.ok(last.text, 'part of the answer shows');
    },
    { interval: 25, message: 'the third answer to stream' },
  );
  const sessionId = await page.evaluate(() => window.__parley.sessionId);
  await server.kill();

  await page.locator('[data-testid=connection-state]:is([data-state=reconnecting], [data-state=offline])').waitFor();

  // Written while the server is down: queued, shown as pending.
  await sendChat(page, texts[3]);
  const queued = await expectEventually(
    async () => {
      const m = (await chatMessages(page)).find((x) => x.role === 'user' && x.text === texts[3]);
      assert.ok(m, 'the queued message shows');
      return m;
    },
    { message: 'the message written offline to show' },
  );
  assert.equal(queued.status, 'pending', `a message written offline waits: ${JSON.stringify(queued)}`);
  assert.equal(queued.id, null, 'no server id yet');
  assert.ok(queued.clientId, 'it has a client id (its retry key)');
  // Still pending after a moment: nothing pretends it was delivered.
  assert.equal((await page.locator(`[data-testid=message][data-client-id="${queued.clientId}"]`).getAttribute('data-status')), 'pending');

  await server.restart();
  await waitConnected(page);
  assert.equal(await page.evaluate(() => window.__parley.sessionId), sessionId, 'the same session resumed');

  // Every message once, each answered once, nothing left streaming.
  const stored = await expectEventually(
    async () => {
      const msgs = await chatMessages(page);
      assert.deepEqual(
        msgs.map((m) => `${m.role}:${m.revealing ? 'revealing' : m.status}`),
        ['user:acked', 'assistant:done', 'user:acked', 'assistant:done', 'user:acked', 'assistant:done', 'user:acked', 'assistant:done'],
        JSON.stringify(msgs),
      );
      assert.deepEqual(
        msgs.filter((m) => m.role === 'user').map((m) => m.text),
        texts,
      );
      assertNoDuplicates(msgs, 'after the resume');
      return msgs;
    },
    { timeout: 45_000, message: 'the resumed transcript to be complete' },
  );
  assert.equal(await page.locator('[data-testid=typing]').count(), 0);

  // What the page shows is what the server stored: each message once, each answered once.
  const rows = await server.messages(sessionId);
  const users = rows.filter((r) => r.role === 'user');
  assert.deepEqual(
    users.map((r) => r.message),
    texts,
    'each user message is stored exactly once, in order',
  );
  const pageUsers = stored.filter((m) => m.role === 'user');
  for (const [i, u] of users.entries()) {
    assert.equal(String(u.id), pageUsers[i].id, `the page shows the stored id of ${JSON.stringify(u.message)}`);
    assert.equal(u.client_id, pageUsers[i].clientId, 'stored with the page\'s client id');
    const answers = rows.filter((r) => r.role === 'assistant' && r.reply_to === u.id);
    assert.equal(answers.length, 1, `one stored answer to ${JSON.stringify(u.message)}: ${JSON.stringify(answers)}`);
    const shown = stored[stored.indexOf(pageUsers[i]) + 1];
    assert.equal(shown.id, String(answers[0].id), 'the answer shown is the stored one');
    assert.equal(shown.text, answers[0].message.trim());
    // The LLM answers (the fallback only if the restarted server took a
    // resumed question before its LLM connection was up).
    env.t.diagnostic(`${JSON.stringify(u.message)}: answered by ${answers[0].source}`);
    if (answers[0].source === 'llm') assert.equal(shown.text, `Echo: ${u.message}`);
    else assert.equal(answers[0].source, 'fallback', JSON.stringify(answers[0]));
  }

  // A reload rebuilds the same transcript, once.
  const before = shape(stored);
  await page.reload();
  await waitConnected(page);
  await expectEventually(
    async () => {
      const msgs = await chatMessages(page);
      assert.deepEqual(shape(msgs), before);
      assert.ok(msgs.every((m) => m.status === 'acked' || m.status === 'done'), JSON.stringify(msgs));
    },
    { message: 'the reloaded transcript' },
  );

  // And the conversation goes on after all that.
  await sendChat(page, 'After the reload');
  assert.equal((await waitForReply(page, 'After the reload')).text, 'Echo: After the reload');
  const after = await chatMessages(page);
  assertNoDuplicates(after, 'after the reload');
  assert.equal(after.length, 10);
  assert.equal((await server.messages(sessionId)).filter((r) => r.role === 'user').length, 5);
});
