import { useMemo } from 'preact/hooks';
import { renderMarkdown } from '../markdown';

/** Markdown as sanitised HTML (see ../markdown.ts): for bot and agent text only. */
export function Markdown({ text, className = '' }: { text: string; className?: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return <div class={`md ${className}`.trim()} dangerouslySetInnerHTML={{ __html: html }} />;
}
