import { useState } from 'preact/hooks';
import { describeError, type KnowledgeReload, type KnowledgeSearch } from '../api';
import { useEnv } from './env';
import { Markdown } from './Markdown';

export const KNOWLEDGE_TOP_K = 5;

function problemText(p: KnowledgeReload['problems'][number]): string {
  if (typeof p === 'string') return p;
  const where = p.path ?? p.source ?? '';
  const why = p.error ?? p.reason ?? JSON.stringify(p);
  return where ? `${where}: ${why}` : why;
}

export function KnowledgeView() {
  const env = useEnv();
  const [query, setQuery] = useState('');
  const [searching, setSearching] = useState(false);
  const [result, setResult] = useState<KnowledgeSearch | null>(null);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [reloading, setReloading] = useState(false);
  const [reload, setReload] = useState<KnowledgeReload | null>(null);
  const [reloadError, setReloadError] = useState<string | null>(null);

  const search = async () => {
    const q = query.trim();
    if (!q || searching) return;
    setSearching(true);
    setSearchError(null);
    try {
      setResult(await env.api.searchKnowledge(q, KNOWLEDGE_TOP_K));
    } catch (e) {
      setSearchError(describeError(e));
    } finally {
      setSearching(false);
    }
  };

  const doReload = async () => {
    if (reloading) return;
    setReloading(true);
    setReloadError(null);
    try {
      setReload(await env.api.reloadKnowledge());
    } catch (e) {
      setReload(null);
      setReloadError(describeError(e));
    } finally {
      setReloading(false);
    }
  };

  return (
    <section class="page" aria-labelledby="knowledge-title">
      <header class="page__head">
        <h2 id="knowledge-title">Knowledge base</h2>
        <button type="button" class="btn btn--small" data-testid="knowledge-reload" disabled={reloading} onClick={() => void doReload()}>
          {reloading ? 'Reloading…' : 'Reload files'}
        </button>
      </header>
      {reload || reloadError ? (
        <div class={`reload-result ${reloadError || reload?.problems.length ? 'reload-result--warn' : ''}`} data-testid="knowledge-reload-result" role="status">
          {reloadError ? (
            <span class="error">Reload failed: {reloadError}</span>
          ) : reload ? (
            <>
              <strong>
                {reload.documents} documents, {reload.sections} sections.
              </strong>{' '}
              {[
                reload.added.length ? `added: ${reload.added.join(', ')}` : null,
                reload.updated.length ? `updated: ${reload.updated.join(', ')}` : null,
                reload.removed.length ? `removed: ${reload.removed.join(', ')}` : null,
              ]
                .filter(Boolean)
                .join('; ') || 'No file changed.'}
              {reload.problems.length ? (
                <ul class="problems">
                  {reload.problems.map((p, i) => (
                    <li key={i}>{problemText(p)}</li>
                  ))}
                </ul>
              ) : null}
            </>
          ) : null}
        </div>
      ) : null}
      <form
        class="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <input
          type="search"
          data-testid="knowledge-query"
          placeholder="Search what the bot knows, e.g. return policy"
          aria-label="Search the knowledge base"
          value={query}
          maxLength={1000}
          onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="submit" class="btn btn--primary" data-testid="knowledge-search" disabled={searching || !query.trim()}>
          {searching ? 'Searching…' : 'Search'}
        </button>
      </form>
      {searchError ? (
        <p class="error" role="alert">
          {searchError}
        </p>
      ) : null}
      {result ? (
        <div class="results">
          <p class="muted">
            {result.matches.length ? `${result.matches.length} best matches for “${result.query}”` : `Nothing matches “${result.query}”.`}
          </p>
          {result.matches.map((m, i) => (
            <article class="result" data-testid="knowledge-result" key={`${m.source}#${m.section}#${i}`}>
              <header class="result__head">
                <span class="result__title">
                  {m.title}
                  {m.section && m.section !== m.title ? <> › {m.section}</> : null}
                </span>
                <span class="result__score" title="BM25 score">
                  {m.score.toFixed(2)}
                </span>
              </header>
              <div class="result__source">
                <code>{m.source}</code>
              </div>
              <Markdown text={m.content} className="result__content" />
            </article>
          ))}
        </div>
      ) : null}
    </section>
  );
}
