// How the chat page behaves while answers stream, beyond what the other files
// check: no layout shift (CLS) and earlier messages that keep their place while
// a reply grows; auto-scroll that follows the stream, stops once the reader
// scrolls up and comes back with "Jump to latest"; accessibility basics (the
// log region, keyboard-only use, button names); and a 360 px phone with a long
// unbroken URL and a wide code block (no sideways overflow, the code scrolls in
// its own block).

import { assert, chatMessages, e2eSuite, expectEventually, sendChat, waitConnected, waitForReply } from './harness.mjs';

const suite = e2eSuite();
let server;

// 12 pieces 120 ms apart: about 1.5 s of visible streaming per reply.
async function startServer() {
  if (server) return server;
  const llm = await suite.mock(['--chunks', '12', '--chunk-delay-ms', '120']);
  server = await suite.parley({ llm, router: 'rules', echoRules: true });
  return server;
}

const LONG =
  'Layout check: this is a deliberately long message so that the echoed answer wraps over several lines in its bubble, ' +
  'and keeps wrapping while the pieces of the stream come in one after another; nothing above it should move, ' +
  'nothing should jump, and the page should simply grow at the bottom as the words come in, calmly and predictably.';

// (The texts avoid the rules' phrases — "order", "arrive", "return", … — so
// that the LLM answers them: the mock echoes `Echo: <text>`.)
const streamingReply = (page) => page.locator('[data-testid=message][data-role=assistant][data-status=streaming]');

suite.test('no layout shift while a reply streams; earlier messages keep their place', async (env) => {
  const s = await startServer();
  const { page } = await env.page(`${s.url}/`, { viewport: { width: 1024, height: 900 } });
  await waitConnected(page);
  await sendChat(page, 'First message, a short one.');
  await waitForReply(page, 'First message, a short one.');
  await page.evaluate(() => document.fonts.ready);

  // The long text goes into the composer first: the composer growing with it
  // (a programmatic fill, no input event) is not part of the stream.
  const input = page.locator('[data-testid=composer-input]');
  await input.fill(LONG);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

  // Register before sending: layout-shift entries (buffered), and the place of
  // every message already shown, relative to the list's content box, sampled
  // on every DOM change and every frame while the reply streams.
  await page.evaluate(() => {
    const rec = { shifts: [], samples: [], t0: performance.now(), sawStreaming: false, heights: [] };
    window.__behaviour = rec;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        rec.shifts.push({ value: e.value, hadRecentInput: e.hadRecentInput, startTime: e.startTime, sources: (e.sources ?? []).map((s) => ({ node: s.node?.className ?? String(s.node), from: s.previousRect?.toJSON(), to: s.currentRect?.toJSON() })) });
    }).observe({ type: 'layout-shift', buffered: true });
    const listEl = document.querySelector('[data-testid=message-list]');
    const earlier = [...listEl.querySelectorAll('[data-testid=message]')];
    const boxes = () => {
      const base = listEl.getBoundingClientRect();
      return earlier.map((el) => {
        const r = el.getBoundingClientRect();
        return { top: r.top - base.top, left: r.left - base.left, width: r.width, height: r.height };
      });
    };
    rec.before = boxes();
    const sample = () => {
      const streaming = listEl.querySelector('[data-testid=message][data-role=assistant][data-status=streaming]');
      if (!streaming) return;
      rec.sawStreaming = true;
      rec.heights.push(streaming.getBoundingClientRect().height);
      rec.samples.push(boxes());
    };
    new MutationObserver(sample).observe(listEl, { subtree: true, childList: true, characterData: true, attributes: true });
    const frame = () => {
      sample();
      if (!rec.stop) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });

  await input.press('Enter');
  await streamingReply(page).waitFor();
  const reply = await waitForReply(page, LONG);
  assert.equal(reply.text, `Echo: ${LONG}`);
  const rec = await page.evaluate(() => {
    window.__behaviour.stop = true;
    return window.__behaviour;
  });

  // The reply wrapped over several lines and grew while it streamed.
  const lines = await page.evaluate(() => {
    const bodies = document.querySelectorAll('[data-testid=message][data-role=assistant] [data-testid=message-body]');
    const body = bodies[bodies.length - 1];
    const line = parseFloat(getComputedStyle(body).lineHeight) || 20;
    return body.getBoundingClientRect().height / line;
  });
  assert.ok(lines >= 3, `the reply wraps over several lines (${lines.toFixed(1)})`);
  assert.ok(rec.sawStreaming && rec.samples.length >= 2, `the stream was observed (${rec.samples.length} samples)`);
  const heights = [...new Set(rec.heights.map((h) => Math.round(h)))];
  assert.ok(heights.length >= 2, `the streaming bubble grew: ${heights}`);

  const during = rec.shifts.filter((e) => e.startTime >= rec.t0 && !e.hadRecentInput);
  const cls = during.reduce((sum, e) => sum + e.value, 0);
  env.t.diagnostic(`layout shift during the stream: ${cls.toFixed(4)} (${during.length} entries); ${rec.samples.length} samples; bubble heights ${heights.join(',')}`);
  assert.ok(cls < 0.01, `cumulative layout shift while streaming ${cls} < 0.01: ${JSON.stringify(during)}`);

  assert.equal(rec.before.length, 2, 'two messages before the stream');
  for (const [i, sample] of rec.samples.entries())
    for (const [j, box] of sample.entries())
      for (const k of ['top', 'left', 'width', 'height'])
        assert.ok(Math.abs(box[k] - rec.before[j][k]) <= 0.5, `earlier message ${j} kept its ${k} (sample ${i}: ${box[k]} vs ${rec.before[j][k]})`);
});

suite.test('auto-scroll follows a stream, stops when the reader scrolls up; "Jump to latest" brings it back', async (env) => {
  // A longer stream: 30 pieces 200 ms apart (about 6 s), time to scroll up in the middle.
  const llm = await env.mock(['--chunks', '30', '--chunk-delay-ms', '200']);
  const s = await env.parley({ llm, router: 'rules', echoRules: true });
  const { page } = await env.page(`${s.url}/`, { viewport: { width: 640, height: 440 } });
  await waitConnected(page);
  const scroller = page.locator('main.scroller');
  const metrics = () => scroller.evaluate((el) => ({ top: el.scrollTop, height: el.scrollHeight, client: el.clientHeight, gap: el.scrollHeight - el.scrollTop - el.clientHeight }));

  await sendChat(page, LONG);
  await waitForReply(page, LONG);
  const scrollable = await metrics();
  assert.ok(scrollable.height > scrollable.client + 50, `the conversation scrolls: ${JSON.stringify(scrollable)}`);

  // While a reply streams, the list stays at the bottom (sampled in the page every 25 ms).
  await page.evaluate(() => {
    const el = document.querySelector('main.scroller');
    const rec = { gaps: [], streaming: 0 };
    window.__follow = rec;
    rec.timer = setInterval(() => {
      if (!document.querySelector('[data-testid=message][data-role=assistant][data-status=streaming]')) return;
      rec.streaming++;
      rec.gaps.push(el.scrollHeight - el.scrollTop - el.clientHeight);
    }, 25);
  });
  const second = `Second: ${LONG}`;
  await sendChat(page, second);
  await waitForReply(page, second);
  const follow = await page.evaluate(() => {
    clearInterval(window.__follow.timer);
    return window.__follow;
  });
  assert.ok(follow.streaming >= 5, `the stream was sampled (${follow.streaming} samples)`);
  const worst = Math.max(...follow.gaps);
  env.t.diagnostic(`distance from the bottom while following: at most ${worst}px over ${follow.gaps.length} samples`);
  assert.ok(worst <= 2, `the list stayed at the bottom while the reply streamed (gaps ${JSON.stringify(follow.gaps)})`);
  assert.equal(await page.locator('[data-testid=jump-latest]').count(), 0, 'no "Jump to latest" while at the bottom');

  // A third reply: the reader scrolls up with the wheel while it streams.
  const third = `Third: ${LONG}`;
  await sendChat(page, third);
  await streamingReply(page).waitFor();
  const box = await scroller.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -300);
  await page.locator('[data-testid=jump-latest]').waitFor({ state: 'visible' });
  // Let the wheel's scroll settle (two equal readings), then it must stay put.
  const settled = await expectEventually(
    async () => {
      const a = await metrics();
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const b = await metrics();
      assert.equal(a.top, b.top);
      return b;
    },
    { message: 'the scroll to settle' },
  );
  assert.ok(settled.gap > 48, `scrolled away from the bottom: ${JSON.stringify(settled)}`);
  const stillStreaming = (await streamingReply(page).count()) > 0;
  await page.evaluate(() => {
    const el = document.querySelector('main.scroller');
    const rec = { tops: [], heights: [] };
    window.__away = rec;
    rec.timer = setInterval(() => {
      rec.tops.push(el.scrollTop);
      rec.heights.push(el.scrollHeight);
    }, 25);
  });
  await waitForReply(page, third);
  const away = await page.evaluate(() => {
    clearInterval(window.__away.timer);
    return window.__away;
  });
  const end = await metrics();
  env.t.diagnostic(`scrolled up at ${settled.top} (gap ${settled.gap}); content grew ${settled.height} → ${end.height}; still streaming then: ${stillStreaming}`);
  assert.ok(
    away.tops.every((t) => Math.abs(t - settled.top) <= 1),
    `scrollTop stayed at ${settled.top} while the reply went on: ${JSON.stringify([...new Set(away.tops)])}`,
  );
  assert.equal(end.top, settled.top, 'scrollTop unchanged once the reply is done');
  if (stillStreaming) assert.ok(end.height > settled.height, `the reply grew after the reader scrolled up (${settled.height} → ${end.height}): the check meant something`);
  await page.locator('[data-testid=jump-latest]').waitFor({ state: 'visible' });

  // "Jump to latest" scrolls to the bottom and goes away.
  await page.locator('[data-testid=jump-latest]').click();
  await expectEventually(async () => assert.ok((await metrics()).gap <= 2, JSON.stringify(await metrics())), { message: 'the list at the bottom after "Jump to latest"' });
  await page.locator('[data-testid=jump-latest]').waitFor({ state: 'detached' });
});

/** Buttons (and role=button) that are rendered and have no accessible name. */
function unnamedButtons(page) {
  return page.evaluate(() => {
    const name = (el) => {
      const label = el.getAttribute('aria-label')?.trim();
      if (label) return label;
      const by = el.getAttribute('aria-labelledby');
      if (by) return by.split(/\s+/).map((id) => document.getElementById(id)?.textContent.trim() ?? '').join(' ').trim();
      return (el.textContent ?? '').trim() || el.getAttribute('title')?.trim() || '';
    };
    return [...document.querySelectorAll('button, [role=button], input[type=button], input[type=submit]')]
      .filter((el) => el.getClientRects().length > 0)
      .filter((el) => !name(el))
      .map((el) => el.outerHTML.slice(0, 160));
  });
}

suite.test('accessibility: a polite log, keyboard-only sending, named buttons', async (env) => {
  const s = await startServer();
  const { page } = await env.page(`${s.url}/`);
  await waitConnected(page);
  await page.locator('[data-testid=suggestion]').first().waitFor();
  assert.deepEqual(await unnamedButtons(page), [], 'every button of the empty chat has an accessible name');

  const list = page.locator('[data-testid=message-list]');
  assert.equal(await list.getAttribute('role'), 'log');
  assert.equal(await list.getAttribute('aria-live'), 'polite');

  // Keyboard only: the composer has the focus on load, or Tab from the start of the page reaches it.
  const composerFocused = () => page.evaluate(() => document.activeElement?.dataset?.testid === 'composer-input');
  let tabs = 0;
  if (!(await composerFocused())) {
    await page.evaluate(() => document.activeElement?.blur?.());
    for (; tabs < 30 && !(await composerFocused()); tabs++) await page.keyboard.press('Tab');
  }
  assert.ok(await composerFocused(), `Tab reaches the composer (${tabs} presses)`);
  env.t.diagnostic(tabs ? `the composer is reached with ${tabs} Tab presses` : 'the composer has the focus on load');

  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  const input = page.locator('[data-testid=composer-input]');
  assert.equal(await input.inputValue(), 'line one\nline two', 'Shift+Enter breaks the line');
  assert.equal((await chatMessages(page)).length, 0, 'nothing sent yet');
  await page.keyboard.press('Enter');
  await expectEventually(async () => assert.equal(await input.inputValue(), ''), { message: 'the composer to empty' });
  assert.ok(await composerFocused(), 'the composer keeps the focus after sending');

  // While it streams (Stop shows), every button still has a name.
  await streamingReply(page).waitFor();
  await page.locator('[data-testid=stop]').waitFor();
  assert.deepEqual(await unnamedButtons(page), [], 'every button has an accessible name while a reply streams');
  const reply = await waitForReply(page, 'line one\nline two');
  assert.match(reply.text, /^Echo: line one/);
  // The final reply's text is inside the log region.
  const logText = await list.innerText();
  assert.ok(logText.includes('line two'), `the reply is inside role=log: ${JSON.stringify(logText)}`);
  assert.equal(await list.locator('[data-testid=message][data-role=assistant][data-status=done]').count(), 1, 'the final reply is in the log');

  // A second message with the keyboard only, then the header's buttons and the history panel.
  await page.keyboard.type('Another keyboard-only message.');
  await page.keyboard.press('Enter');
  await waitForReply(page, 'Another keyboard-only message.');
  await page.locator('[data-testid=history-toggle]').click();
  await page.locator('[data-testid=history-item]').first().waitFor();
  assert.deepEqual(await unnamedButtons(page), [], 'every button has an accessible name with the history open');
});

suite.test('360×740 phone: a long unbroken URL and a wide code block do not widen the page', async (env) => {
  const s = await startServer();
  const { page } = await env.page(`${s.url}/`, { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await waitConnected(page);
  const url = `https://example.com/${'averyveryverylongpathsegmentwithoutanybreaks'.repeat(4)}?query=${'x'.repeat(60)}`;
  const text = `Look at ${url} and this:\n\n\`\`\`\nconst wide = "${'0123456789'.repeat(16)}"; // one long line of code\n\`\`\``;
  await sendChat(page, text);
  const reply = await waitForReply(page, text);
  assert.ok(reply.text.includes('averyveryverylong'), reply.text);
  await page.evaluate(() => document.fonts.ready);

  const m = await page.evaluate(() => {
    const pre = document.querySelector('[data-testid=message][data-role=assistant] [data-testid=message-body] pre');
    const r = pre?.getBoundingClientRect();
    return {
      scrollWidth: document.documentElement.scrollWidth,
      bodyScrollWidth: document.body.scrollWidth,
      innerWidth: window.innerWidth,
      scrollX: window.scrollX,
      pre: pre && { left: r.left, right: r.right, scrollWidth: pre.scrollWidth, clientWidth: pre.clientWidth, overflowX: getComputedStyle(pre).overflowX },
      wide: [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > 360.5 && getComputedStyle(el).position !== 'fixed' && !el.closest('pre'))
        .slice(0, 5)
        .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`),
    };
  });
  env.t.diagnostic(`360 px: ${JSON.stringify(m)}`);
  assert.ok(m.scrollWidth <= 360 && m.innerWidth <= 360, `no horizontal overflow (scrollWidth ${m.scrollWidth}, innerWidth ${m.innerWidth}; wider: ${m.wide.join(', ')})`);
  assert.ok(m.bodyScrollWidth <= m.innerWidth, `the body does not overflow (${m.bodyScrollWidth} > ${m.innerWidth})`);
  assert.deepEqual(m.wide, [], 'nothing outside a code block reaches past the screen');
  assert.ok(m.pre, 'the reply has a code block');
  assert.ok(m.pre.left >= 0 && m.pre.right <= 360, `the code block fits on the screen: ${JSON.stringify(m.pre)}`);
  assert.ok(m.pre.scrollWidth > m.pre.clientWidth, `the long code line overflows inside the block: ${JSON.stringify(m.pre)}`);
  assert.match(m.pre.overflowX, /auto|scroll/, 'the code block scrolls sideways');
  // Scrolling the code block moves the code, not the page.
  await page.locator('[data-testid=message][data-role=assistant] pre').first().evaluate((pre) => (pre.scrollLeft = 200));
  assert.ok((await page.locator('[data-testid=message][data-role=assistant] pre').first().evaluate((pre) => pre.scrollLeft)) > 0, 'the code block scrolls');
  assert.equal(await page.evaluate(() => window.scrollX), 0, 'the page did not scroll sideways');
});
