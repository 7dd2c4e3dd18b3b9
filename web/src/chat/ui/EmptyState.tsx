import type { Suggestion } from '../config';
import { LogoMark } from './icons';

export function EmptyState(props: { title: string; greeting: string; suggestions: Suggestion[]; onPick(text: string): void; disabled: boolean }) {
  return (
    <section class="empty" aria-label="Start a conversation">
      <LogoMark class="empty-logo" />
      <h2 class="empty-title">{props.title}</h2>
      <p class="empty-greeting">{props.greeting}</p>
      {props.suggestions.length > 0 && (
        <ul class="suggestions" aria-label="Suggestions">
          {props.suggestions.map((s) => (
            <li key={s.label + s.text}>
              <button
                type="button"
                class="chip"
                data-testid="suggestion"
                disabled={props.disabled}
                title={s.text !== s.label ? s.text : undefined}
                onClick={() => props.onPick(s.text)}
              >
                {s.label}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
