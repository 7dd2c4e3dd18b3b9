import { useEffect, useRef, useState } from 'preact/hooks';
import { UnauthorizedError, describeError } from '../api';
import { Poller, type PollContext } from '../poller';
import { useEnv } from './env';

export interface PollStatus {
  /** The last failure, until a poll succeeds again. */
  error: string | null;
  failures: number;
  /** Poll now. */
  poke: () => void;
}

/**
 * Runs `task` now and every `interval` ms while the component is mounted
 * (and again from scratch when `deps` change), with backoff on failure. The
 * task sees the latest props; it should drop its result when
 * `ctx.isStopped()`.
 */
export function usePolling(task: (ctx: PollContext) => Promise<void>, interval: number, deps: unknown[]): PollStatus {
  const { timers } = useEnv();
  const taskRef = useRef(task);
  taskRef.current = task;
  const pollerRef = useRef<Poller | null>(null);
  const [status, setStatus] = useState<{ error: string | null; failures: number }>({ error: null, failures: 0 });

  useEffect(() => {
    setStatus((s) => (s.error === null && s.failures === 0 ? s : { error: null, failures: 0 }));
    const poller = new Poller((ctx) => taskRef.current(ctx), {
      interval,
      timers,
      isFatal: (e) => e instanceof UnauthorizedError,
      onError: (e, failures) => setStatus({ error: describeError(e), failures }),
      onRecover: () => setStatus({ error: null, failures: 0 }),
    });
    pollerRef.current = poller;
    poller.start();
    return () => {
      poller.stop();
      if (pollerRef.current === poller) pollerRef.current = null;
    };
  }, [interval, timers, ...deps]);

  const poke = useRef(() => pollerRef.current?.poke()).current;
  return { ...status, poke };
}

/** Follows a little store with `current`/`state` and `subscribe`. */
export function useStore<S>(store: { subscribe(fn: (s: S) => void): () => void }, read: () => S): S {
  const [value, setValue] = useState<S>(read);
  useEffect(() => {
    setValue(read());
    return store.subscribe((s) => setValue(() => s));
  }, [store]);
  return value;
}
