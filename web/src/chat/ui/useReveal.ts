import { useEffect, useRef, useState } from 'preact/hooks';
import { caughtUp, revealStart, step, type RevealState } from '../reveal';

/** Whether this browser animates reveals: not with reduced motion, nor without frames (tests). */
export function revealWanted(): boolean {
  return (
    typeof requestAnimationFrame === 'function' &&
    typeof matchMedia === 'function' &&
    !matchMedia('(prefers-reduced-motion: reduce)').matches
  );
}

/**
 * How much of `text` to show: all of it unless `live`, else a prefix that
 * catches up frame by frame (see reveal.ts).
 */
export function useReveal(text: string, live: boolean): number {
  const enabled = useRef(live && revealWanted()).current;
  const state = useRef<RevealState>(revealStart);
  const [shown, setShown] = useState(0);

  useEffect(() => {
    if (!enabled || caughtUp(text, state.current)) return;
    let last: number | null = null;
    let id = requestAnimationFrame(function frame(now: number) {
      const dt = last === null ? 16 : Math.min(now - last, 100);
      last = now;
      state.current = step(text, state.current, dt);
      setShown(state.current.shown);
      if (!caughtUp(text, state.current)) id = requestAnimationFrame(frame);
    });
    return () => cancelAnimationFrame(id);
  }, [text, enabled]);

  return enabled ? Math.min(shown, text.length) : text.length;
}
