// Runs a task now and then every `interval` ms after it finishes (never two
// at once). A failing task is retried with a growing delay (interval × 2ⁿ,
// capped), so an unreachable server is asked once every few seconds rather
// than hammered, and the interval comes back with the first success. stop()
// ends it for good; a result that arrives after stop() is ignored by the
// caller's task through `isStopped`.

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const browserTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
};

export interface PollerOptions {
  /** Delay between the end of one run and the start of the next. */
  interval: number;
  /** The longest delay after failures (default 30 s or the interval, whichever is longer). */
  maxBackoff?: number;
  timers: Timers;
  /** Told about every failure (the count includes this one). */
  onError?: (error: unknown, failures: number) => void;
  /** Told when a run succeeds after failures. */
  onRecover?: () => void;
  /** Stop instead of retrying when this says so (a 401, say). */
  isFatal?: (error: unknown) => boolean;
}

export interface PollContext {
  /** True once the poller was stopped: drop what this run fetched. */
  isStopped(): boolean;
}

export class Poller {
  private handle: unknown = null;
  private running = false;
  private stopped = true;
  private rerun = false;
  private failureCount = 0;
  private generation = 0;

  constructor(
    private readonly task: (ctx: PollContext) => Promise<void>,
    private readonly opts: PollerOptions,
  ) {}

  get failures(): number {
    return this.failureCount;
  }

  get active(): boolean {
    return !this.stopped;
  }

  /** Starts polling with a run right away. Starting a running poller does nothing. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.generation++;
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.rerun = false;
    this.clear();
  }

  /** Runs now instead of waiting for the timer (after the current run, if one is under way). */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.clear();
    void this.run();
  }

  /** The delay before the next run after `failures` failures in a row. */
  delay(failures = this.failureCount): number {
    const { interval } = this.opts;
    if (failures <= 0) return interval;
    const max = this.opts.maxBackoff ?? Math.max(30_000, interval);
    return Math.min(max, interval * 2 ** Math.min(failures, 16));
  }

  private clear(): void {
    if (this.handle !== null) {
      this.opts.timers.clearTimeout(this.handle);
      this.handle = null;
    }
  }

  private async run(): Promise<void> {
    const gen = this.generation;
    this.running = true;
    this.handle = null;
    const ctx: PollContext = { isStopped: () => this.stopped || gen !== this.generation };
    let fatal = false;
    try {
      await this.task(ctx);
      if (ctx.isStopped()) return;
      if (this.failureCount > 0) {
        this.failureCount = 0;
        this.opts.onRecover?.();
      }
    } catch (error) {
      if (ctx.isStopped()) return;
      this.failureCount++;
      fatal = this.opts.isFatal?.(error) ?? false;
      this.opts.onError?.(error, this.failureCount);
    } finally {
      if (gen === this.generation) this.running = false;
    }
    if (ctx.isStopped()) return;
    if (fatal) {
      this.stop();
      return;
    }
    if (this.rerun) {
      this.rerun = false;
      void this.run();
      return;
    }
    this.handle = this.opts.timers.setTimeout(() => {
      this.handle = null;
      void this.run();
    }, this.delay());
  }
}
