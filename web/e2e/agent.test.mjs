// The rules agent (no LLM) in the browser: an order lookup with slot
// filling, then a hand-off to a human who answers from the agent console
// (/admin) and hands the conversation back to the bot; and a handed-off
// session closed from the console, which hands it back too.

import { readFileSync } from 'node:fs';
import { ADMIN_TOKEN, adminMessages, adminSignIn, assert, chatMessages, e2eSuite, expectEventually, sendChat, waitConnected, waitForReply } from './harness.mjs';

const suite = e2eSuite();

// The console's sign-in check with a wrong token is a 401, which Chromium
// reports on the console.
const UNAUTHORIZED = [/Failed to load resource: the server responded with a status of 401/];

suite.test('order lookup with slot filling, then a hand-off to a human agent in the console and back', async (env) => {
  const server = await env.parley({}); // no LLM: the rules answer
  const orders = JSON.parse(readFileSync(new URL('../../config/demo_orders.json', import.meta.url), 'utf8'));
  const order = orders.find((o) => o.id === '124');
  assert.ok(order, 'config/demo_orders.json has order 124');

  const chat = await env.page(`${server.url}/`, { label: 'customer' });
  const page = chat.page;
  await waitConnected(page);

  // Slot filling: the bot asks for the number, the next message gives it.
  await sendChat(page, 'Where is my order?');
  const ask = await waitForReply(page, 'Where is my order?');
  assert.match(ask.text, /order number/i, `the bot asks for the order number: ${ask.text}`);
  await sendChat(page, '124');
  const found = await waitForReply(page, '124');
  assert.match(found.text, /\b124\b/, found.text);
  assert.match(found.text, new RegExp(`\\b${order.status}\\b`), `the reply has the order's status (${order.status}): ${found.text}`);
  assert.match(found.text, new RegExp(order.tracking), 'and its tracking number');

  // The customer asks for a person: the bot says so and stops answering.
  const banner = page.locator('[data-testid=handoff-banner]');
  assert.equal(await banner.count(), 0, 'no handoff banner while the bot answers');
  await sendChat(page, 'I want to talk to a human');
  const handoff = await waitForReply(page, 'I want to talk to a human');
  assert.match(handoff.text, /support team|human agent/i, handoff.text);
  const sessionId = await page.evaluate(() => window.__parley.sessionId);

  // The banner shows at once (the bot's reply carries handoff: true), before
  // any agent writes; it says nobody has joined yet.
  await page.locator('[data-testid=handoff-banner][data-state=waiting]').waitFor();
  assert.match(await banner.innerText(), /human agent/i);
  assert.doesNotMatch(await banner.innerText(), /has joined/i);
  // A reload knows it from the session frame's status (replays carry no flag).
  await page.reload();
  await waitConnected(page);
  await page.locator('[data-testid=handoff-banner][data-state=waiting]').waitFor();
  await expectEventually(async () => assert.equal((await chatMessages(page)).length, 6), { message: 'the conversation after the reload' });

  // The console: a wrong token is refused, the right one lets in.
  const con = await env.page(`${server.url}/admin`, { label: 'console', allow: UNAUTHORIZED });
  const admin = con.page;
  await admin.locator('[data-testid=token-input]').fill('not-the-right-token-at-all');
  await admin.locator('[data-testid=token-submit]').click();
  await admin.locator('[data-testid=token-error]').waitFor();
  assert.match(await admin.locator('[data-testid=token-error]').innerText(), /401|refused/i);
  con.allow.length = 0; // from here on, a 401 would be a bug
  await adminSignIn(admin, ADMIN_TOKEN);
  await admin.locator('[data-testid=health-db][data-state=ok]').waitFor();
  await admin.locator('[data-testid=health-llm][data-state=ok]').waitFor(); // rules only: that is how it should be

  // The session waits in the queue; open it.
  const item = admin.locator(`[data-testid=handoff-item][data-session-id="${sessionId}"]`);
  await item.waitFor();
  await expectEventually(async () => assert.equal((await admin.locator('[data-testid=handoff-count]').innerText()).trim(), '1'), { message: 'the queue count' });
  assert.match(await item.innerText(), /talk to a human/, 'the queue shows the last customer message');
  // Its title is the first thing the customer wrote (the server sets it).
  assert.equal((await item.locator('[data-testid=session-title]').innerText()).trim(), 'Where is my order?');
  await item.click();
  await admin.waitForURL(new RegExp(`/admin/sessions/${sessionId}$`));
  await expectEventually(async () => assert.equal((await admin.locator('[data-testid=session-status]').innerText()).trim(), 'handoff'), { message: 'status handoff' });
  assert.equal((await admin.locator('.session-head [data-testid=session-title]').innerText()).trim(), 'Where is my order?');
  // Handed off by the bot: it can go back to the bot.
  const release = admin.locator('[data-testid=release]');
  assert.equal(await release.isEnabled(), true, 'Release is enabled on a handed-off session');
  // The sessions list can show the ones waiting for a human.
  await admin.locator('[data-testid=session-filter]').selectOption('handoff');
  await admin.locator(`[data-testid=session-item][data-session-id="${sessionId}"]`).waitFor();
  await admin.locator('[data-testid=session-filter]').selectOption('active');
  await admin.locator(`[data-testid=session-item][data-session-id="${sessionId}"]`).waitFor({ state: 'detached' });
  await expectEventually(
    async () => {
      const msgs = await adminMessages(admin);
      assert.deepEqual(
        msgs.filter((m) => m.role === 'user').map((m) => m.text),
        ['Where is my order?', '124', 'I want to talk to a human'],
      );
      assert.equal(msgs.length, 6, JSON.stringify(msgs));
      const chatIds = (await chatMessages(page)).map((m) => m.id);
      assert.deepEqual(
        msgs.map((m) => m.id),
        chatIds,
        'the console shows the same messages (same ids) as the customer',
      );
    },
    { message: "the customer's messages in the console" },
  );

  // Dana answers.
  const greeting = 'Hi, Dana here. I see order 124 has shipped; how can I help?';
  await admin.locator('[data-testid=agent-name-input]').fill('Dana');
  await admin.locator('[data-testid=reply-input]').fill(greeting);
  await admin.locator('[data-testid=reply-send]').click();
  await expectEventually(async () => assert.equal(await admin.locator('[data-testid=reply-input]').inputValue(), ''), { message: 'the reply box to empty' });
  assert.equal(await admin.locator('[data-testid=reply-error]').count(), 0);
  await expectEventually(
    async () => {
      const last = (await adminMessages(admin)).at(-1);
      assert.equal(last.role, 'agent');
      assert.equal(last.text, greeting);
      assert.match(last.all, /Dana/);
    },
    { message: "the agent's reply in the console" },
  );

  // The customer sees a person joined, and Dana's message with her name.
  await page.locator('[data-testid=handoff-banner][data-state=joined]').waitFor();
  assert.match(await banner.innerText(), /A human agent has joined/);
  assert.match(await banner.innerText(), /Dana/);
  const agentMsg = await expectEventually(
    async () => {
      const m = (await chatMessages(page)).find((x) => x.role === 'agent');
      assert.ok(m, 'an agent message shows');
      return m;
    },
    { message: "Dana's message on the chat page" },
  );
  assert.equal(agentMsg.agentName, 'Dana');
  assert.equal(agentMsg.text, greeting);
  assert.equal(agentMsg.status, 'done');

  // The customer answers; the console shows it live (it polls), the bot keeps quiet.
  const answer = 'Thanks Dana, it has not arrived yet';
  await sendChat(page, answer);
  await expectEventually(
    async () => {
      const last = (await adminMessages(admin)).at(-1);
      assert.equal(last.role, 'user');
      assert.equal(last.text, answer);
    },
    { message: "the customer's answer in the console" },
  );
  await page.locator(`[data-testid=message][data-role=user][data-status=acked]:has-text("${answer}")`).waitFor();
  assert.equal((await chatMessages(page)).at(-1).role, 'user', 'no bot reply during the hand-off');

  // Back to the bot: the customer gets the notice, the bot answers again.
  await release.click();
  await expectEventually(async () => assert.equal((await admin.locator('[data-testid=session-status]').innerText()).trim(), 'active'), { message: 'status active' });
  // Nothing left to release (the server would say 409).
  await expectEventually(async () => assert.equal(await release.isDisabled(), true), { message: 'Release disabled once released' });
  assert.equal(await admin.locator('[data-testid=reply-error]').count(), 0);
  const notice = await expectEventually(
    async () => {
      const m = (await chatMessages(page)).at(-1);
      assert.equal(m.role, 'system', JSON.stringify(m));
      return m;
    },
    { message: 'the system notice on the chat page' },
  );
  assert.match(notice.text, /back with the .*assistant/i, notice.text);
  await banner.waitFor({ state: 'detached' });
  await expectEventually(async () => assert.ok(!(await admin.locator(`[data-testid=handoff-item][data-session-id="${sessionId}"]`).count())), {
    message: 'the session to leave the queue',
  });

  await sendChat(page, 'Where is my order 555?');
  const again = await waitForReply(page, 'Where is my order 555?');
  assert.match(again.text, /555/);
  assert.match(again.text, /process/i, `order 555 is processing: ${again.text}`);
  await expectEventually(
    async () => {
      const last = (await adminMessages(admin)).at(-1);
      assert.equal(last.role, 'assistant');
      assert.match(last.text, /555/);
    },
    { message: "the bot's answer in the console" },
  );

  // Everything the customer saw, once.
  const ids = (await chatMessages(page)).map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length, `no duplicates: ${ids}`);
});

suite.test('closing a handed-off session in the console hands it back: the notice and no banner on the chat page', async (env) => {
  const server = await env.parley({});
  const { page } = await env.page(`${server.url}/`, { label: 'customer' });
  await waitConnected(page);
  await sendChat(page, 'Can I speak to a person?');
  await waitForReply(page, 'Can I speak to a person?');
  await page.locator('[data-testid=handoff-banner][data-state=waiting]').waitFor();
  const sessionId = await page.evaluate(() => window.__parley.sessionId);

  const { page: admin } = await env.page(`${server.url}/admin/sessions/${sessionId}`, { label: 'console' });
  await adminSignIn(admin, ADMIN_TOKEN);
  await expectEventually(async () => assert.equal((await admin.locator('[data-testid=session-status]').innerText()).trim(), 'handoff'), { message: 'status handoff' });
  assert.equal((await admin.locator('.session-head [data-testid=session-title]').innerText()).trim(), 'Can I speak to a person?');
  assert.equal(await admin.locator('[data-testid=release]').isEnabled(), true);
  await admin.locator('[data-testid=close-session]').click();
  await admin.locator('[data-testid=close-confirm]').click();
  await expectEventually(async () => assert.equal((await admin.locator('[data-testid=session-status]').innerText()).trim(), 'inactive'), { message: 'status inactive' });
  assert.equal(await admin.locator('[data-testid=release]').isDisabled(), true, 'nothing to release once closed');
  // The console shows the notice the customer got.
  await expectEventually(async () => assert.equal((await adminMessages(admin)).at(-1)?.role, 'system'), { message: 'the notice in the console' });

  // The customer: the notice (live, handoff: false), no banner, and the bot answers again.
  const notice = await expectEventually(
    async () => {
      const m = (await chatMessages(page)).at(-1);
      assert.equal(m.role, 'system', JSON.stringify(m));
      return m;
    },
    { message: 'the notice on the chat page' },
  );
  assert.ok(notice.text, 'the notice has text');
  await page.locator('[data-testid=handoff-banner]').waitFor({ state: 'detached' });
  await sendChat(page, 'Where is my order 124?');
  const again = await waitForReply(page, 'Where is my order 124?');
  assert.match(again.text, /124/);
});
