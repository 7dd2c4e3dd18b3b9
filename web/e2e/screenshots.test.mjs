// Layout checks and screenshots for a human to look at: the chat page on a
// phone (390×844) and a desktop (1280×800), light and dark, after a short
// conversation with a Markdown answer; the console with that session open.
// Screenshots go to $PARLEY_TEST_ARTIFACTS (chat-390x844.png,
// chat-390x844-dark.png, chat-390x844-empty.png, chat-1280x800.png,
// chat-1280x800-dark.png, admin-1280x800.png, admin-1280x800-dark.png,
// admin-768x1024.png, admin-390x844.png, admin-390x844-list.png).

import path from 'node:path';
import { ADMIN_TOKEN, ARTIFACTS_DIR, adminMessages, adminSignIn, assert, chatMessages, e2eSuite, expectEventually, sendChat, waitConnected, waitForReply } from './harness.mjs';

const suite = e2eSuite();
const shot = (name) => path.join(ARTIFACTS_DIR, name);

/**
 * No sideways scrolling, and the composer fully inside the viewport. The
 * problems are collected (`problems`), so that every screenshot is still
 * taken; the test fails at its end if there were any.
 */
async function checkLayout(page, what, problems) {
  try {
    await assertLayout(page, what);
  } catch (e) {
    problems.push(e.message);
  }
}

async function assertLayout(page, what) {
  const m = await page.evaluate((screenWidth) => {
    const box = (sel) => {
      const el = document.querySelector(sel);
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height };
    };
    return {
      scrollWidth: document.documentElement.scrollWidth,
      bodyScrollWidth: document.body.scrollWidth,
      innerWidth: window.innerWidth,
      innerHeight: window.innerHeight,
      input: box('[data-testid=composer-input]'),
      send: box('[data-testid=send]'),
      newChat: box('[data-testid=new-chat]'),
      title: box('.brand-title'),
      actions: box('.topbar-actions'),
      // What sticks out of the screen (a long word, a code block, a grid track).
      wide: [...document.querySelectorAll('body *')]
        .filter((el) => {
          const wider = (e) => e.getBoundingClientRect().right > screenWidth + 0.5 && getComputedStyle(e).position !== 'fixed';
          // the outermost ones: where the overflow starts
          return wider(el) && !(el.parentElement && el.parentElement !== document.body && wider(el.parentElement));
        })
        .slice(0, 5)
        .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`),
    };
  }, page.viewportSize().width);
  // On a phone, content wider than the screen widens the layout viewport
  // (the page is zoomed out): innerWidth grows too. Compare with the screen.
  const width = page.viewportSize().width;
  assert.ok(
    m.scrollWidth <= width && m.innerWidth <= width,
    `${what}: no horizontal overflow (scrollWidth ${m.scrollWidth}, innerWidth ${m.innerWidth}, screen ${width}; wider: ${m.wide.join(', ')})`,
  );
  assert.ok(m.bodyScrollWidth <= m.innerWidth, `${what}: the body does not overflow (${m.bodyScrollWidth} > ${m.innerWidth})`);
  // The title gives way (it ellipsises) to the header's buttons.
  assert.ok(m.title && m.actions && m.title.right <= m.actions.left, `${what}: the title stays clear of the buttons: ${JSON.stringify([m.title, m.actions])}`);
  for (const [name, b] of [
    ['the composer', m.input],
    ['the send button', m.send],
    ['the New chat button', m.newChat],
  ]) {
    assert.ok(b && b.width > 0 && b.height > 0, `${what}: ${name} is shown`);
    const { width: w, height: h } = page.viewportSize();
    assert.ok(b.left >= 0 && b.right <= w && b.top >= 0 && b.bottom <= h, `${what}: ${name} is inside the ${w}×${h} screen: ${JSON.stringify(b)}`);
  }
  await page.locator('[data-testid=composer-input]').waitFor({ state: 'visible' });
}

/** Relative luminance (0..1) of the page's background. */
function backgroundLuminance(page) {
  return page.evaluate(() => {
    const pick = (el) => getComputedStyle(el).backgroundColor;
    let color = pick(document.body);
    if (/rgba\(0, 0, 0, 0\)|transparent/.test(color)) color = pick(document.documentElement);
    const app = document.querySelector('.app');
    if (/rgba\(0, 0, 0, 0\)|transparent/.test(color) && app) color = pick(app);
    const [r, g, b] = (color.match(/[\d.]+/g) ?? ['0', '0', '0']).slice(0, 3).map(Number);
    const lin = (c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return { color, luminance: 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b) };
  });
}

/** Clicks the theme toggle (system → light → dark → system) until the choice is `want`. */
async function setTheme(page, want) {
  const toggle = page.locator('[data-testid=theme-toggle]');
  // The choice is kept in localStorage as parley.theme (none: system).
  const choice = () => page.evaluate(() => localStorage.getItem('parley.theme') ?? 'system');
  for (let i = 0; i < 3 && (await choice()) !== want; i++) {
    const before = await choice();
    await toggle.click();
    await expectEventually(async () => assert.notEqual(await choice(), before), { message: 'the theme toggle to react' });
  }
  assert.equal(await choice(), want, `the theme toggle reaches ${want}`);
  await expectEventually(async () => assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), want), { message: `<html data-theme=${want}>` });
}

suite.test('chat and console layouts on a phone and a desktop, light and dark (screenshots)', async (env) => {
  const server = await env.parley({}); // the rules agent: its knowledge answers are Markdown
  const problems = [];

  // Desktop, light: the conversation.
  const desk = await env.page(`${server.url}/`, { label: 'chat-desktop', viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  const page = desk.page;
  await waitConnected(page);
  await checkLayout(page, 'desktop, empty chat', problems);
  await sendChat(page, 'Where is my order 124?');
  await waitForReply(page, 'Where is my order 124?');
  await sendChat(page, 'What is your return policy?');
  const policy = await waitForReply(page, 'What is your return policy?');
  assert.match(policy.text, /30 days/, policy.text);
  // The answer's Markdown is rendered: bold and a list.
  const lastBody = page.locator('[data-testid=message][data-role=assistant]').last().locator('[data-testid=message-body]');
  assert.ok((await lastBody.locator('strong').count()) >= 1, 'bold text is rendered');
  assert.ok((await lastBody.locator('ul > li, ol > li').count()) >= 2, 'the list is rendered as a list');
  await page.evaluate(() => document.fonts.ready);
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  await checkLayout(page, 'desktop, light', problems);
  await page.screenshot({ path: shot('chat-1280x800.png') });

  // Desktop, dark by the system's preference (the theme choice is "system").
  await page.emulateMedia({ colorScheme: 'dark' });
  await expectEventually(async () => assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark'), { message: 'the system dark theme' });
  await checkLayout(page, 'desktop, dark', problems);
  await page.screenshot({ path: shot('chat-1280x800-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });
  await expectEventually(async () => assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light'), { message: 'back to light' });

  // The phone opens the same conversation (the page's storage carried over).
  const state = await desk.context.storageState();
  const transcript = (await chatMessages(page)).map((m) => `${m.role}:${m.id}`);
  await page.close();
  const phone = await env.page(null, {
    label: 'chat-phone',
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    colorScheme: 'light',
    storageState: state,
  });
  const mobile = phone.page;
  await mobile.goto(`${server.url}/`);
  await waitConnected(mobile);
  await expectEventually(async () => assert.deepEqual((await chatMessages(mobile)).map((m) => `${m.role}:${m.id}`), transcript), { message: 'the same conversation on the phone' });
  await mobile.evaluate(() => document.fonts.ready);
  await checkLayout(mobile, 'phone, light', problems);
  const light = await backgroundLuminance(mobile);
  await mobile.screenshot({ path: shot('chat-390x844.png') });

  // Dark with the toggle.
  await setTheme(mobile, 'dark');
  const dark = await backgroundLuminance(mobile);
  assert.ok(light.luminance > 0.5, `the light theme is light: ${light.color}`);
  assert.ok(dark.luminance < 0.2, `the dark theme is dark: ${dark.color}`);
  const bubbleColors = await mobile.evaluate(() => {
    const body = document.querySelector('[data-testid=message][data-role=assistant] [data-testid=message-body]');
    return { text: getComputedStyle(body).color };
  });
  assert.notEqual(bubbleColors.text, 'rgb(0, 0, 0)', 'dark mode does not keep black text');
  await checkLayout(mobile, 'phone, dark', problems);
  await mobile.screenshot({ path: shot('chat-390x844-dark.png') });
  await setTheme(mobile, 'light');

  // A new chat on the phone: the greeting and the suggestions.
  const sessionId = await mobile.evaluate(() => window.__parley.sessionId);
  await mobile.locator('[data-testid=new-chat]').click();
  await mobile.locator('[data-testid=suggestion]').first().waitFor();
  await waitConnected(mobile);
  const scrolled = await mobile.evaluate(() => ({ x: window.scrollX, left: document.scrollingElement?.scrollLeft ?? 0 }));
  if (scrolled.x !== 0 || scrolled.left !== 0) problems.push(`tapping New chat scrolled the page sideways: ${JSON.stringify(scrolled)}`);
  await checkLayout(mobile, 'phone, new chat', problems);
  await mobile.screenshot({ path: shot('chat-390x844-empty.png') });

  // The console, desktop, with the session open.
  const con = await env.page(`${server.url}/admin`, { label: 'console', viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  const admin = con.page;
  await adminSignIn(admin, ADMIN_TOKEN);
  await admin.locator(`[data-testid=session-item][data-session-id="${sessionId}"]`).click();
  await expectEventually(async () => assert.equal((await adminMessages(admin)).length, 4), { message: 'the session in the console' });
  await admin.locator('[data-testid=health-db][data-state=ok]').waitFor();
  // The bot has this session: nothing to release, and the header has the title the server gave it.
  assert.equal((await admin.locator('[data-testid=session-status]').innerText()).trim(), 'active');
  assert.equal(await admin.locator('[data-testid=release]').isDisabled(), true, 'Release is disabled on an active session');
  assert.equal((await admin.locator('.session-head [data-testid=session-title]').innerText()).trim(), 'Where is my order 124?');
  await admin.evaluate(() => document.fonts.ready);
  const adminLayout = await admin.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  if (adminLayout.scrollWidth > adminLayout.innerWidth) problems.push(`the console overflows sideways: ${JSON.stringify(adminLayout)}`);
  const reply = await admin.locator('[data-testid=reply-input]').boundingBox();
  if (!reply || reply.y + reply.height > 800) problems.push(`the console's reply box is outside the viewport: ${JSON.stringify(reply)}`);
  await admin.screenshot({ path: shot('admin-1280x800.png') });
  await admin.emulateMedia({ colorScheme: 'dark' });
  await expectEventually(async () => assert.equal(await admin.evaluate(() => document.documentElement.dataset.theme), 'dark'), { message: 'the console in dark' });
  await admin.screenshot({ path: shot('admin-1280x800-dark.png') });

  // The same console on a tablet and a phone: nothing sideways, the reply box on screen.
  await admin.emulateMedia({ colorScheme: 'light' });
  for (const [width, height] of [
    [768, 1024],
    [390, 844],
  ]) {
    await admin.setViewportSize({ width, height });
    await admin.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const layout = await admin.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    if (layout.scrollWidth > layout.innerWidth) problems.push(`the console overflows sideways at ${width}px: ${JSON.stringify(layout)}`);
    const box = await admin.locator('[data-testid=reply-input]').boundingBox();
    if (!box || box.y + box.height > height || box.x < 0 || box.x + box.width > width)
      problems.push(`the console's reply box is off screen at ${width}×${height}: ${JSON.stringify(box)}`);
    const transcript = await admin.locator('[data-testid=transcript]').boundingBox();
    if (!transcript || transcript.height < 120) problems.push(`the transcript has no room at ${width}×${height}: ${JSON.stringify(transcript)}`);
    await admin.screenshot({ path: shot(`admin-${width}x${height}.png`) });
  }
  // On the phone the list and the session take turns: back to the list, and into the session again.
  await admin.locator('[data-testid=back-to-list]').click();
  await admin.locator(`[data-testid=session-item][data-session-id="${sessionId}"]`).waitFor();
  assert.equal(await admin.locator('[data-testid=transcript]').count(), 0, 'the list alone on a phone');
  await admin.screenshot({ path: shot('admin-390x844-list.png') });
  await admin.locator(`[data-testid=session-item][data-session-id="${sessionId}"]`).click();
  await admin.locator('[data-testid=transcript]').waitFor();
  assert.equal(await admin.locator(`[data-testid=session-item][data-session-id="${sessionId}"]`).isVisible(), false, 'the session alone on a phone');
  env.t.diagnostic(`screenshots in ${ARTIFACTS_DIR}`);
  assert.deepEqual(problems, [], `layout problems:\n${problems.join('\n')}`);
});
