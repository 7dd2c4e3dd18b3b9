// What the console keeps in the browser. The admin token lives in
// sessionStorage only: it is gone when the tab closes and never written to
// localStorage. The agent's display name is not secret and is remembered.

export const TOKEN_KEY = 'parley.admin.token';
export const AGENT_NAME_KEY = 'parley.admin.agentName';

export type KeyValue = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

function read(store: KeyValue | null, key: string): string | null {
  try {
    return store?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function write(store: KeyValue | null, key: string, value: string | null): void {
  try {
    if (value === null) store?.removeItem(key);
    else store?.setItem(key, value);
  } catch {
    /* storage disabled or full: kept for this page only */
  }
}

export class TokenStore {
  private memory: string | null;

  constructor(private readonly session: KeyValue | null) {
    this.memory = read(session, TOKEN_KEY);
  }

  get(): string | null {
    return this.memory;
  }

  set(token: string): void {
    this.memory = token;
    write(this.session, TOKEN_KEY, token);
  }

  clear(): void {
    this.memory = null;
    write(this.session, TOKEN_KEY, null);
  }
}

export function loadAgentName(local: KeyValue | null): string {
  return read(local, AGENT_NAME_KEY) ?? '';
}

export function saveAgentName(local: KeyValue | null, name: string): void {
  const trimmed = name.trim();
  write(local, AGENT_NAME_KEY, trimmed ? trimmed.slice(0, 80) : null);
}

/** Why a typed token cannot even be tried, or null. The server judges the rest. */
export function tokenProblem(token: string): string | null {
  if (!token) return 'Enter the admin token.';
  if (/\s/.test(token)) return 'The admin token has no spaces.';
  return null;
}
