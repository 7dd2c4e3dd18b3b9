// Who is signed in: the admin token (sessionStorage, see storage.ts) and,
// after a sign-out the console did not ask for, why.

import type { TokenStore } from './storage';

export interface AuthState {
  token: string | null;
  /** Why the console is at the sign-in screen (a 401), or null. */
  notice: string | null;
}

export class Auth {
  private state: AuthState;
  private listeners = new Set<(s: AuthState) => void>();

  constructor(private readonly tokens: TokenStore) {
    this.state = { token: tokens.get(), notice: null };
  }

  get current(): AuthState {
    return this.state;
  }

  token(): string | null {
    return this.state.token;
  }

  signIn(token: string): void {
    this.tokens.set(token);
    this.set({ token, notice: null });
  }

  /** The agent signed out. */
  signOut(): void {
    this.tokens.clear();
    this.set({ token: null, notice: null });
  }

  /** The server refused the token (a 401 on any call). */
  expire(reason: string): void {
    if (this.state.token === null) return;
    this.tokens.clear();
    this.set({ token: null, notice: reason });
  }

  subscribe(fn: (s: AuthState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(s: AuthState): void {
    this.state = s;
    for (const fn of this.listeners) fn(s);
  }
}
