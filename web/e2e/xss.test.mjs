// Script injection through every way text reaches a page: the customer's
// own message, the LLM's answer (the mock echoes the payloads back), a
// knowledge file's content in a rules answer and in the console's knowledge
// search. Nothing may run (window.__pwned stays undefined), nothing that
// could run may be in the DOM, and the CSP reports no violation (a blocked
// inline handler would mean the sanitiser let it through).

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_TOKEN, adminMessages, adminSignIn, assert, chatMessages, dangerousMarkup, e2eSuite, expectEventually, sendChat, tempDir, waitConnected, waitForReply } from './harness.mjs';

const suite = e2eSuite();

// Blank lines between them: each payload is a block of its own in the
// Markdown of the echo ("Echo: " only prefixes the first).
const PAYLOADS = [
  'xss payloads follow',
  '<img src=x onerror="window.__pwned=1">',
  '<script>window.__pwned=1</script>',
  '[click](javascript:window.__pwned=1)',
  '<svg onload="window.__pwned=1"><circle r="5"/></svg>',
  '<a href="javascript:window.__pwned=1">raw link</a>',
  '[upper](JAVASCRIPT:window.__pwned=1) [spaced](%20javascript:window.__pwned=1) [data](data:text/html,%3Cscript%3Ewindow.__pwned=1%3C/script%3E)',
  '![pic](javascript:window.__pwned=1) ![remote](https://evil.example/x.png)',
  '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
  'inline <img src=/favicon.svg onerror=window.__pwned=1> and <b onmouseover=window.__pwned=1>bold</b> text',
  '<details open ontoggle=window.__pwned=1>x</details>',
];
const MESSAGE = PAYLOADS.join('\n\n');

async function assertHarmless(page, bodies, what) {
  assert.equal(await page.evaluate(() => typeof window.__pwned), 'undefined', `${what}: no payload ran`);
  assert.deepEqual(await dangerousMarkup(page, bodies), [], `${what}: nothing that could run is in the DOM`);
}

/**
 * Every link in `bodies` must lead to an http(s), mailto or tel address (a
 * relative one resolves to the server); links without an address are
 * clicked: none may run anything. Returns the number of links.
 */
async function clickLinks(page, bodies) {
  const links = page.locator(`:is(${bodies}) a`);
  const n = await links.count();
  const url = page.url();
  for (let i = 0; i < n; i++) {
    const link = links.nth(i);
    const href = await link.getAttribute('href');
    if (href !== null) {
      const protocol = new URL(href, url).protocol;
      assert.ok(['http:', 'https:', 'mailto:', 'tel:'].includes(protocol), `a link keeps only a harmless address: ${href}`);
      continue; // would open a tab elsewhere
    }
    await link.click();
  }
  assert.equal(page.url(), url, 'no link navigated the page');
  assert.equal(await page.evaluate(() => typeof window.__pwned), 'undefined', 'clicking the links ran nothing');
  return n;
}

suite.test('payloads in a message and in the echoed answer are shown as text in the chat and the console', async (env) => {
  const llm = await env.mock(['--chunks', '3']);
  const server = await env.parley({ llm, router: 'rules', echoRules: true });
  const { page, context } = await env.page(`${server.url}/`, { label: 'chat' });
  await waitConnected(page);
  await sendChat(page, MESSAGE);
  const reply = await waitForReply(page, MESSAGE);
  const msgs = await chatMessages(page);

  // The customer's own text is text: exactly what was typed.
  assert.equal(msgs[0].text, MESSAGE);
  // The answer shows the payloads as text (raw HTML is escaped) or drops them.
  for (const p of ['<img src=x onerror="window.__pwned=1">', '<script>window.__pwned=1</script>', '<svg onload="window.__pwned=1">', '<iframe srcdoc='])
    assert.ok(reply.text.includes(p), `the answer shows ${p} as text: ${reply.text}`);
  assert.match(reply.text, /click/);
  const bodies = '[data-testid=message-list] [data-testid=message-body]';
  await assertHarmless(page, bodies, 'chat');
  const popups = [];
  context.on('page', (p) => popups.push(p));
  const links = await clickLinks(page, bodies);
  assert.ok(links >= 1, 'the Markdown links are there to click');
  const click = page.locator(`:is(${bodies}) a:text-is("click")`);
  assert.equal(await click.count(), 1, 'the javascript: link is shown as a link text');
  assert.equal(await click.getAttribute('href'), null, 'without its javascript: address');
  assert.equal(popups.length, 0, 'clicking opened nothing');
  await assertHarmless(page, bodies, 'chat after clicking');

  // The console renders the same conversation (the answer as Markdown).
  const sessionId = await page.evaluate(() => window.__parley.sessionId);
  const { page: admin } = await env.page(`${server.url}/admin/sessions/${sessionId}`, { label: 'console' });
  await adminSignIn(admin, ADMIN_TOKEN);
  await expectEventually(
    async () => {
      const m = await adminMessages(admin);
      assert.equal(m.length, 2);
      assert.equal(m[0].text, MESSAGE, "the customer's message is text in the console");
      assert.ok(m[1].text.includes('<script>window.__pwned=1</script>'), m[1].text);
    },
    { message: 'the conversation in the console' },
  );
  const adminBodies = '[data-testid=transcript] [data-testid=message-body]';
  await assertHarmless(admin, adminBodies, 'console');
  await clickLinks(admin, adminBodies);
  await assertHarmless(admin, adminBodies, 'console after clicking');
});

suite.test('a knowledge file with a payload: the rules answer and the console search show it harmlessly', async (env) => {
  const kdir = tempDir('knowledge');
  env.onClose(() => rmSync(kdir, { recursive: true, force: true }));
  mkdirSync(kdir, { recursive: true });
  const file = (name, title, section, body) =>
    writeFileSync(path.join(kdir, name), `# ${title}\n\nAbout ${title.toLowerCase()}.\n\n## ${section}\n\n${body}\n`);
  file(
    'zebra-care.md',
    'Zebra care',
    'Zebra feeding policy',
    [
      'Zebras eat hay twice a day. <script>window.__pwned=1</script>',
      '<img src=x onerror="window.__pwned=1">',
      '- stripes are **unique** [more](javascript:window.__pwned=1)',
      '- <a href="javascript:window.__pwned=1" onclick="window.__pwned=1">raw</a>',
    ].join('\n\n'),
  );
  {
    const server = await env.parley({ knowledgeDir: kdir, args: ['--knowledge-poll-ms', '0'] }); // no LLM: the rules answer
    const { page } = await env.page(`${server.url}/`, { label: 'chat' });
    await waitConnected(page);
    const q = 'What is your zebra feeding policy?';
    await sendChat(page, q);
    const reply = await waitForReply(page, q);
    assert.match(reply.text, /Zebras eat hay twice a day/, `the answer comes from the file: ${reply.text}`);
    const bodies = '[data-testid=message-list] [data-testid=message-body]';
    assert.equal(await page.locator(`:is(${bodies}) strong:has-text("unique")`).count(), 1, 'the Markdown is rendered');
    await assertHarmless(page, bodies, 'chat');
    await clickLinks(page, bodies);
    await assertHarmless(page, bodies, 'chat after clicking');

    // The console's knowledge search renders the same content.
    const { page: admin } = await env.page(`${server.url}/admin/knowledge`, { label: 'console' });
    await adminSignIn(admin, ADMIN_TOKEN);
    await admin.locator('[data-testid=knowledge-query]').fill('zebra feeding');
    await admin.locator('[data-testid=knowledge-search]').click();
    const result = admin.locator('[data-testid=knowledge-result]').first();
    await result.waitFor();
    assert.match(await result.innerText(), /Zebras eat hay/);
    await assertHarmless(admin, '[data-testid=knowledge-result]', 'console search');
    await clickLinks(admin, '[data-testid=knowledge-result]');

    // A file added later is found after a reload (the button), payload and all.
    file('okapi.md', 'Okapi care', 'Okapi grooming', 'Okapis like brushes. <svg onload="window.__pwned=1"></svg> <img src=/x onerror=window.__pwned=1>');
    await admin.locator('[data-testid=knowledge-reload]').click();
    const reload = admin.locator('[data-testid=knowledge-reload-result]');
    await reload.waitFor();
    await expectEventually(async () => assert.match(await reload.innerText(), /okapi\.md/), { message: 'the reload to report the new file' });
    await admin.locator('[data-testid=knowledge-query]').fill('okapi grooming brushes');
    await admin.locator('[data-testid=knowledge-search]').click();
    await expectEventually(async () => assert.match(await admin.locator('[data-testid=knowledge-result]').first().innerText(), /Okapis like brushes/), {
      message: 'the new file in the search',
    });
    await assertHarmless(admin, '[data-testid=knowledge-result]', 'console search, new file');
  }
});
