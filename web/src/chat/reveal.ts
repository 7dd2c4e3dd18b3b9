// Smooth reveal of an answer's text, as chat UIs smooth their streams.
//
// Text reaches the page in bursts: the rules agent's answer arrives whole,
// and an LLM's deltas arrive in network-sized clumps. The page shows it at
// a steady pace that never lags the text received by more than `catchUpMs`,
// one whole word at a time. Pure: the view calls step() from
// requestAnimationFrame.

export interface RevealOptions {
  /** The slowest pace, in UTF-16 units per millisecond. */
  minRate: number;
  /** The longest the shown text lags the text received. */
  catchUpMs: number;
}

export const defaultReveal: RevealOptions = { minRate: 0.3, catchUpMs: 600 };

export interface RevealState {
  /** How much of the text is shown (UTF-16 units, at a word's end). */
  shown: number;
  /** Where the pace has got to, with the fraction not shown yet. */
  cursor: number;
  /** The current pace (units per ms); 0 when caught up. */
  rate: number;
}

export const revealStart: RevealState = { shown: 0, cursor: 0, rate: 0 };

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x09 || code === 0x0d;
}

/**
 * The end of the word at `at`: the next whitespace, or the text's end. Never
 * splits a surrogate pair, even in a text without spaces.
 */
export function wordEnd(text: string, at: number): number {
  if (at >= text.length) return text.length;
  if (at <= 0) return 0;
  let i = at;
  while (i < text.length && !isSpace(text.charCodeAt(i))) i++;
  // A long run without spaces (a URL, CJK text) is revealed by characters.
  if (i - at > 24) {
    i = at;
    const code = text.charCodeAt(i - 1);
    if (code >= 0xd800 && code <= 0xdbff) i++;
  }
  return i;
}

/**
 * The next state after `dtMs` with `text` received so far. The pace only
 * rises while text keeps coming, so an answer is shown at one speed instead
 * of fast first and slow at the end.
 */
export function step(text: string, state: RevealState, dtMs: number, options: RevealOptions = defaultReveal): RevealState {
  const total = text.length;
  if (state.shown >= total) return state.shown === total && state.rate === 0 ? state : { shown: total, cursor: total, rate: 0 };
  const backlog = total - state.cursor;
  const rate = Math.max(state.rate, options.minRate, backlog / options.catchUpMs);
  const cursor = Math.min(total, state.cursor + rate * Math.max(0, dtMs));
  const shown = Math.max(state.shown, wordEnd(text, Math.floor(cursor)));
  if (shown >= total) return { shown: total, cursor: total, rate: 0 };
  return { shown, cursor, rate };
}

/** Whether the reveal has caught up with `text`. */
export function caughtUp(text: string, state: RevealState): boolean {
  return state.shown >= text.length;
}
