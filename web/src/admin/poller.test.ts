import { describe, expect, it, vi } from 'vitest';
import { Poller } from './poller';
import { CONSOLE_START, settle } from '../../test/console-fakes';
import { FakeClock } from '../../test/fakes';

function setup(task: () => Promise<void>, opts: { interval?: number; maxBackoff?: number; isFatal?: (e: unknown) => boolean } = {}) {
  const timers = new FakeClock(CONSOLE_START);
  const onError = vi.fn();
  const onRecover = vi.fn();
  const poller = new Poller(task, { interval: opts.interval ?? 1000, maxBackoff: opts.maxBackoff, timers, onError, onRecover, isFatal: opts.isFatal });
  return { timers, poller, onError, onRecover };
}

describe('Poller', () => {
  it('runs at once, then every interval after each run', async () => {
    const task = vi.fn(async () => {});
    const { timers, poller } = setup(task);
    poller.start();
    await settle();
    expect(task).toHaveBeenCalledTimes(1);
    timers.advance(999);
    await settle();
    expect(task).toHaveBeenCalledTimes(1);
    timers.advance(1);
    await settle();
    expect(task).toHaveBeenCalledTimes(2);
    timers.advance(1000);
    await settle();
    timers.advance(1000);
    await settle();
    expect(task).toHaveBeenCalledTimes(4);
  });

  it('never runs two at once: the next run waits for a slow one', async () => {
    let release: () => void = () => {};
    const task = vi.fn(() => new Promise<void>((r) => (release = r)));
    const { timers, poller } = setup(task);
    poller.start();
    timers.advance(5000);
    await settle();
    expect(task).toHaveBeenCalledTimes(1);
    expect(timers.pending()).toEqual([]);
    release();
    await settle();
    expect(timers.pending()).toEqual([1000]);
  });

  it('backs off after failures, capped, and comes back on success', async () => {
    let fail = true;
    const task = vi.fn(async () => {
      if (fail) throw new Error('down');
    });
    const { timers, poller, onError, onRecover } = setup(task, { interval: 1000, maxBackoff: 5000 });
    poller.start();
    await settle();
    expect(onError).toHaveBeenLastCalledWith(expect.any(Error), 1);
    expect(timers.pending()).toEqual([2000]);
    timers.advance(2000);
    await settle();
    expect(timers.pending()).toEqual([4000]);
    timers.advance(4000);
    await settle();
    expect(timers.pending()).toEqual([5000]);
    timers.advance(5000);
    await settle();
    expect(timers.pending()).toEqual([5000]);
    expect(poller.failures).toBe(4);
    expect(onRecover).not.toHaveBeenCalled();
    fail = false;
    timers.advance(5000);
    await settle();
    expect(onRecover).toHaveBeenCalledTimes(1);
    expect(poller.failures).toBe(0);
    expect(timers.pending()).toEqual([1000]);
    expect(task).toHaveBeenCalledTimes(5);
  });

  it('stops for good: no timer left, a late result ignored', async () => {
    let release: () => void = () => {};
    const seen: boolean[] = [];
    const { timers, poller, onError } = setup(() => Promise.resolve());
    const p2 = new Poller(
      async (ctx) => {
        await new Promise<void>((r) => (release = r));
        seen.push(ctx.isStopped());
        throw new Error('late');
      },
      { interval: 1000, timers, onError },
    );
    p2.start();
    await settle();
    p2.stop();
    release();
    await settle();
    expect(seen).toEqual([true]);
    expect(onError).not.toHaveBeenCalled();
    expect(timers.pending()).toEqual([]);

    poller.start();
    await settle();
    expect(timers.pending()).toEqual([1000]);
    poller.stop();
    expect(timers.pending()).toEqual([]);
    expect(poller.active).toBe(false);
  });

  it('poke runs now, or right after the run under way', async () => {
    const task = vi.fn(async () => {});
    const { timers, poller } = setup(task);
    poller.start();
    await settle();
    poller.poke();
    await settle();
    expect(task).toHaveBeenCalledTimes(2);
    expect(timers.pending()).toEqual([1000]);

    let release: () => void = () => {};
    task.mockImplementationOnce(() => new Promise<void>((r) => (release = r)));
    poller.poke();
    poller.poke();
    await settle();
    expect(task).toHaveBeenCalledTimes(3);
    release();
    await settle();
    expect(task).toHaveBeenCalledTimes(4); // one rerun for both pokes
    expect(timers.pending()).toEqual([1000]);
  });

  it('stops on a fatal error (a 401)', async () => {
    const { timers, poller, onError } = setup(
      async () => {
        throw new Error('401');
      },
      { isFatal: () => true },
    );
    poller.start();
    await settle();
    expect(onError).toHaveBeenCalledTimes(1);
    expect(poller.active).toBe(false);
    expect(timers.pending()).toEqual([]);
  });

  it('computes its delays', () => {
    const { poller } = setup(async () => {}, { interval: 1500 });
    expect(poller.delay(0)).toBe(1500);
    expect(poller.delay(1)).toBe(3000);
    expect(poller.delay(3)).toBe(12000);
    expect(poller.delay(50)).toBe(30000);
  });
});
