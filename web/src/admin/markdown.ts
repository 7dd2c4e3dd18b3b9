// Markdown for bot and agent messages and knowledge excerpts: the chat page's
// renderer (marked, then DOMPurify with a strict allow-list; raw HTML in the
// text is shown as text, scripts, handlers and javascript: links are
// removed). One import site, so the console can swap it if it ever needs to.

export { renderMarkdown } from '../chat/markdown';
