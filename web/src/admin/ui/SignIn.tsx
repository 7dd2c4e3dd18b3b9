import { useState } from 'preact/hooks';
import { NetworkError, UnauthorizedError, describeError, type ApiClient } from '../api';
import { tokenProblem } from '../storage';

export function SignIn({ api, notice, onSignedIn }: { api: ApiClient; notice: string | null; onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(notice);
  const [checking, setChecking] = useState(false);

  const submit = async () => {
    if (checking) return;
    const candidate = token.trim();
    const problem = tokenProblem(candidate);
    if (problem) {
      setError(problem);
      return;
    }
    setChecking(true);
    setError(null);
    try {
      await api.checkToken(candidate);
      onSignedIn(candidate);
    } catch (e) {
      setChecking(false);
      if (e instanceof UnauthorizedError) setError(`The server refused this token (401): ${e.message}.`);
      else if (e instanceof NetworkError) setError('Cannot reach the server. Is Parley running? Try again in a moment.');
      else setError(`Could not check the token: ${describeError(e)}`);
    }
  };

  return (
    <main class="signin">
      <form
        class="signin__card"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h1>
          Parley <span class="brand__sub">agent console</span>
        </h1>
        <label for="token">Admin token</label>
        <input
          id="token"
          type="password"
          data-testid="token-input"
          autoComplete="off"
          spellcheck={false}
          autoFocus
          value={token}
          aria-invalid={error ? 'true' : 'false'}
          aria-describedby="token-help"
          onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
        />
        {error ? (
          <p class="signin__error" data-testid="token-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="btn btn--primary btn--block" data-testid="token-submit" disabled={checking}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
        <p class="muted small" id="token-help">
          The token is <code>PARLEY_ADMIN_TOKEN</code>, or the contents of <code>data/admin_token</code> on the server. This tab keeps it until it is
          closed (session storage); nothing is stored for longer.
        </p>
      </form>
    </main>
  );
}
