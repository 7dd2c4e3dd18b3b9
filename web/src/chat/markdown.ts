// Markdown for replies (LLM answers, knowledge-base excerpts, human agents):
// marked turns it into HTML, DOMPurify keeps only harmless markup. Nothing in
// a reply may run code: raw HTML in the Markdown is shown as text, and the
// sanitiser removes scripts, event handlers, styles, forms, frames, SVG/MathML
// and any URL that is not http(s), mailto, tel or relative. Every link opens
// in a new tab without giving the page a handle on ours.

import DOMPurify from 'dompurify';
import { Marked, type Token, type Tokens } from 'marked';

const LINK_REL = 'noopener noreferrer nofollow';

/** DOMPurify's default URI rule without ftp:, sms:, callto:, cid:, xmpp: and the like. */
const SAFE_URI = /^(?:(?:https?|mailto|tel):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Same-origin paths (`/kb/a.png`, not `//evil.example/a.png`). */
const isLocalPath = (href: string) => /^\/(?!\/)/.test(href);

function makeMarked(breaks: boolean): Marked {
  return new Marked({
    gfm: true,
    breaks,
    async: false,
    renderer: {
      // Raw HTML in a reply is text, never markup.
      html(token: Tokens.HTML | Tokens.Tag): string {
        return escapeHtml(token.text);
      },
      // Images from elsewhere would be blocked by the page's CSP (img-src
      // 'self') and could track the reader: show them as links instead.
      image(token: Tokens.Image): string {
        const alt = token.text || token.href;
        if (isLocalPath(token.href)) {
          const title = token.title ? ` title="${escapeHtml(token.title)}"` : '';
          return `<img src="${escapeHtml(token.href)}" alt="${escapeHtml(token.text)}"${title} loading="lazy">`;
        }
        return `<a href="${escapeHtml(token.href)}">${escapeHtml(alt)}</a>`;
      },
    },
  });
}

/**
 * Answers from the bot and knowledge files are Markdown proper: a single
 * newline is a soft wrap (knowledge files are hard-wrapped). A person's
 * message (a human agent, a notice) keeps its line breaks.
 */
const markedSoft = makeMarked(false);
const markedHard = makeMarked(true);
const engine = (hardBreaks: boolean) => (hardBreaks ? markedHard : markedSoft);

let purifier: ReturnType<typeof DOMPurify> | null = null;

function getPurifier(): ReturnType<typeof DOMPurify> {
  if (purifier) return purifier;
  const p = DOMPurify(window);
  p.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'A') {
      const href = node.getAttribute('href');
      if (href === null || href === '') {
        node.removeAttribute('href');
      } else {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', LINK_REL);
      }
    }
    if (node.nodeName === 'IMG') {
      const src = node.getAttribute('src') ?? '';
      if (!isLocalPath(src)) node.remove();
    }
  });
  purifier = p;
  return p;
}

/** Sanitises HTML for insertion into a reply bubble. */
export function sanitizeHtml(html: string): string {
  return getPurifier().sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'frame', 'object', 'embed', 'svg', 'math', 'template', 'link', 'meta', 'base'],
    FORBID_ATTR: ['style', 'class', 'id', 'srcset', 'action', 'formaction', 'xlink:href'],
    ADD_ATTR: ['target'],
    ALLOWED_URI_REGEXP: SAFE_URI,
    ALLOW_DATA_ATTR: false,
  });
}

function renderTokens(tokens: Token[], hardBreaks: boolean): string {
  return sanitizeHtml(engine(hardBreaks).parser(tokens));
}

/** Renders a whole Markdown text to safe HTML. */
export function renderMarkdown(text: string, hardBreaks = false): string {
  return renderTokens(engine(hardBreaks).lexer(text), hardBreaks);
}

/**
 * Renders Markdown as a list of top-level blocks of safe HTML, reusing the
 * HTML of blocks seen before. While an answer streams, only its last block
 * changes, so each delta costs one small parse instead of the whole text,
 * and the blocks above keep their DOM (no flicker, no layout jump).
 */
export class BlockRenderer {
  private cache = new Map<string, string>();

  constructor(private readonly hardBreaks = false) {}

  render(text: string): string[] {
    const tokens = engine(this.hardBreaks).lexer(text);
    const blocks: string[] = [];
    const next = new Map<string, string>();
    for (const token of tokens) {
      if (token.type === 'space') continue;
      const key = `${token.type}\u0000${token.raw}`;
      let html = this.cache.get(key) ?? next.get(key);
      if (html === undefined) {
        const one: Token[] = [token];
        html = renderTokens(one, this.hardBreaks);
      }
      next.set(key, html);
      blocks.push(html);
    }
    this.cache = next;
    return blocks;
  }
}
