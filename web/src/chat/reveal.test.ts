import { describe, expect, it } from 'vitest';
import { caughtUp, defaultReveal, revealStart, step, wordEnd, type RevealState } from './reveal';

/** Steps at 60 frames a second until caught up; the shown lengths, frame by frame. */
function run(text: string, from: RevealState = revealStart, maxFrames = 1000): number[] {
  const shown: number[] = [];
  let state = from;
  for (let i = 0; i < maxFrames && !caughtUp(text, state); i++) {
    state = step(text, state, 16);
    shown.push(state.shown);
  }
  return shown;
}

describe('wordEnd', () => {
  it('extends to the end of the word', () => {
    expect(wordEnd('hello world', 2)).toBe(5);
    expect(wordEnd('hello world', 5)).toBe(5);
    expect(wordEnd('hello world', 7)).toBe(11);
    expect(wordEnd('hello world', 0)).toBe(0);
    expect(wordEnd('hello', 99)).toBe(5);
  });

  it('goes by characters through a long run without spaces, never inside a surrogate pair', () => {
    const text = '😀'.repeat(40);
    for (let at = 1; at < text.length; at++) {
      const end = wordEnd(text, at);
      const code = text.charCodeAt(end - 1);
      expect(code >= 0xd800 && code <= 0xdbff, `cut at ${end}`).toBe(false);
    }
  });
});

describe('step', () => {
  it('shows a whole answer progressively, within the catch-up time, at one pace', () => {
    const text = 'word '.repeat(120).trim(); // 599 units
    const frames = run(text);
    expect(frames.length).toBeGreaterThan(10); // not all at once
    expect(frames.length * 16).toBeLessThanOrEqual(defaultReveal.catchUpMs + 32);
    expect(frames[frames.length - 1]).toBe(text.length);
    // Monotonic, and about the same step each frame (no ease-out crawl at the end).
    const steps = frames.map((s, i) => s - (i ? frames[i - 1]! : 0));
    expect(Math.min(...steps)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...steps.slice(0, -1))).toBeLessThanOrEqual(Math.min(...steps.slice(1, -1)) + 6);
  });

  it('only ever shows whole words, until the last frame', () => {
    const text = 'Returns are accepted within thirty days of delivery, unused and in the original box.';
    for (const shown of run(text)) {
      expect(shown === text.length || text[shown] === ' ', `cut at ${shown}: ${text.slice(0, shown)}`).toBe(true);
    }
  });

  it('shows a short answer in a few frames', () => {
    expect(run('Hi! How can I help?').length).toBeLessThanOrEqual(5);
  });

  it('keeps up with text that keeps coming, never lagging more than the catch-up time', () => {
    let text = '';
    let state = revealStart;
    let lagFrames = 0;
    for (let frame = 0; frame < 300; frame++) {
      if (frame % 10 === 0 && frame < 200) text += 'more text arrives in a burst of several words. ';
      state = step(text, state, 16);
      lagFrames = caughtUp(text, state) ? 0 : lagFrames + 1;
      expect(lagFrames * 16).toBeLessThanOrEqual(defaultReveal.catchUpMs + 200);
    }
    expect(caughtUp(text, state)).toBe(true);
  });

  it('stays put once caught up, and goes on from there when more comes', () => {
    const text = 'done';
    const state = { shown: 4, cursor: 4, rate: 0 };
    expect(step(text, state, 16)).toBe(state);
    expect(step(text + ' and more', state, 0).shown).toBe(4);
  });
});
