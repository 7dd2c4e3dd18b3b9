import { useEffect, useState } from 'preact/hooks';
import { describeError, type Setting } from '../api';
import { formatFull } from '../format';
import { useEnv } from './env';

export type SaveState = 'idle' | 'saving' | 'saved' | 'error';

/** Settings by category, categories and keys in alphabetical order. */
export function groupSettings(settings: readonly Setting[]): Array<[string, Setting[]]> {
  const groups = new Map<string, Setting[]>();
  for (const s of settings) {
    const cat = s.category || 'general';
    const list = groups.get(cat) ?? [];
    list.push(s);
    groups.set(cat, list);
  }
  return Array.from(groups.entries())
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([cat, list]) => [cat, list.sort((a, b) => a.key.localeCompare(b.key))]);
}

export function SettingsView() {
  const env = useEnv();
  const [settings, setSettings] = useState<Setting[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let live = true;
    setError(null);
    env.api.settings().then(
      (list) => live && setSettings(list),
      (e: unknown) => live && setError(describeError(e)),
    );
    return () => {
      live = false;
    };
  }, [env.api, reload]);

  return (
    <section class="page" aria-labelledby="settings-title">
      <header class="page__head">
        <h2 id="settings-title">Settings</h2>
        <button type="button" class="btn btn--small btn--ghost" onClick={() => setReload((n) => n + 1)}>
          Reload
        </button>
      </header>
      <p class="muted">Values are text. A change takes effect for new answers as soon as it is saved.</p>
      {error ? (
        <p class="error" role="alert">
          Could not load the settings: {error}
        </p>
      ) : null}
      {settings === null && !error ? <p class="muted">Loading…</p> : null}
      {settings
        ? groupSettings(settings).map(([category, list]) => (
            <fieldset class="settings-group" key={category}>
              <legend>{category}</legend>
              {list.map((s) => (
                <SettingRow key={s.key} setting={s} onSaved={(next) => setSettings((all) => (all ?? []).map((x) => (x.key === next.key ? next : x)))} />
              ))}
            </fieldset>
          ))
        : null}
    </section>
  );
}

function SettingRow({ setting, onSaved }: { setting: Setting; onSaved: (s: Setting) => void }) {
  const env = useEnv();
  const [value, setValue] = useState(setting.value);
  const [state, setState] = useState<SaveState>('idle');
  const [error, setError] = useState<string | null>(null);
  const dirty = value !== setting.value;
  const id = `setting-${setting.key.replace(/[^A-Za-z0-9_-]/g, '_')}`;

  const save = async () => {
    if (state === 'saving') return;
    setState('saving');
    setError(null);
    try {
      const saved = await env.api.saveSetting(setting.key, value);
      onSaved(saved);
      setValue(saved.value);
      setState('saved');
    } catch (e) {
      setError(describeError(e));
      setState('error');
    }
  };

  return (
    <form
      class="setting"
      data-testid="setting"
      data-key={setting.key}
      data-state={state}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label class="setting__label" for={id}>
        <code>{setting.key}</code>
        {setting.description ? <span class="setting__desc">{setting.description}</span> : null}
      </label>
      <div class="setting__edit">
        <input
          id={id}
          type="text"
          data-testid="setting-value"
          value={value}
          autoComplete="off"
          spellcheck={false}
          onInput={(e) => {
            setValue((e.currentTarget as HTMLInputElement).value);
            if (state !== 'saving') setState('idle');
          }}
        />
        <button type="submit" class="btn btn--small" data-testid="setting-save" disabled={state === 'saving'}>
          {state === 'saving' ? 'Saving…' : 'Save'}
        </button>
        {dirty && state === 'idle' ? (
          <button type="button" class="btn btn--small btn--ghost" onClick={() => setValue(setting.value)}>
            Undo
          </button>
        ) : null}
        <span class={`setting__state setting__state--${state}`} role="status">
          {state === 'saved' ? 'Saved' : state === 'error' ? `Not saved: ${error ?? ''}` : dirty ? 'Unsaved change' : ''}
        </span>
      </div>
      <span class="setting__updated" title={formatFull(setting.updated_at)}>
        updated {formatFull(setting.updated_at)}
      </span>
    </form>
  );
}
