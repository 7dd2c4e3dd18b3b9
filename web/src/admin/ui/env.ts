// What every part of the console needs from outside: the API client, timers
// and clock (fakes in tests), the remembered preferences and navigation.

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ApiClient } from '../api';
import type { Timers } from '../poller';
import type { Route } from '../router';
import type { KeyValue } from '../storage';

export interface Env {
  api: ApiClient;
  timers: Timers;
  now: () => number;
  /** localStorage (or null): the agent's name, nothing secret. */
  local: KeyValue | null;
  navigate: (route: Route) => void;
  /** Unsent replies by session id, kept while the page lives. */
  drafts: Map<number, string>;
}

export const EnvContext = createContext<Env | null>(null);

export function useEnv(): Env {
  const env = useContext(EnvContext);
  if (!env) throw new Error('useEnv outside <EnvContext.Provider>');
  return env;
}
