import { useMemo } from 'preact/hooks';
import { BlockRenderer } from '../markdown';

/**
 * A reply's Markdown as sanitised HTML, one element per top-level block: a
 * streaming answer only re-renders its last block.
 */
export function Markdown({ text, hardBreaks = false }: { text: string; hardBreaks?: boolean }) {
  const renderer = useMemo(() => new BlockRenderer(hardBreaks), [hardBreaks]);
  const blocks = useMemo(() => renderer.render(text), [renderer, text]);
  return (
    <>
      {blocks.map((html, i) => (
        <div key={i} class="md-block" dangerouslySetInnerHTML={{ __html: html }} />
      ))}
    </>
  );
}
