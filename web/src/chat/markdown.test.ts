// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { BlockRenderer, renderMarkdown, sanitizeHtml } from './markdown';

/** Parses HTML into a detached element to inspect what would end up in the page. */
function dom(html: string): HTMLElement {
  const el = document.createElement('div');
  el.innerHTML = html;
  return el;
}

function assertInert(html: string): void {
  const el = dom(html);
  expect(el.querySelector('script, iframe, object, embed, svg, math, style, form, input, base, link, meta')).toBeNull();
  for (const node of Array.from(el.querySelectorAll('*'))) {
    for (const attr of Array.from(node.attributes)) {
      expect(attr.name.startsWith('on'), `${node.tagName} ${attr.name}`).toBe(false);
      expect(attr.name).not.toBe('style');
      if (attr.name === 'href' || attr.name === 'src' || attr.name === 'xlink:href' || attr.name === 'action')
        expect(attr.value.trim().toLowerCase()).not.toMatch(/^(javascript|vbscript|data):/);
    }
  }
}

describe('renderMarkdown', () => {
  it('renders the usual Markdown', () => {
    const el = dom(renderMarkdown('# Title\n\nSome **bold** and `code`.\n\n- a\n- b\n\n```js\nlet x = 1;\n```'));
    expect(el.querySelector('h1')?.textContent).toBe('Title');
    expect(el.querySelector('strong')?.textContent).toBe('bold');
    expect(el.querySelectorAll('li')).toHaveLength(2);
    expect(el.querySelector('pre code')?.textContent).toBe('let x = 1;\n');
  });

  it('treats single newlines as soft wraps in answers, as line breaks for people', () => {
    expect(dom(renderMarkdown('wrapped\nline')).querySelector('br')).toBeNull();
    expect(dom(renderMarkdown('Thanks!\nDana', true)).querySelector('br')).not.toBeNull();
  });

  it('shows raw HTML as text, scripts included', () => {
    const html = renderMarkdown('Hello <script>alert(1)</script> <b onclick="x()">b</b>\n\n<img src=x onerror=alert(1)>');
    assertInert(html);
    const el = dom(html);
    expect(el.querySelector('b')).toBeNull();
    expect(el.textContent).toContain('<script>alert(1)</script>');
  });

  it('never keeps javascript:, vbscript: or data: links', () => {
    for (const md of [
      '[click](javascript:alert(1))',
      '[click](JaVaScRiPt:alert(1))',
      '[click](  javascript:alert(1))',
      '[click](java&#x09;script:alert(1))',
      '[click](vbscript:msgbox)',
      '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '<javascript:alert(1)>',
      '[ref]\n\n[ref]: javascript:alert(1)',
    ]) {
      const html = renderMarkdown(md);
      assertInert(html);
      const a = dom(html).querySelector('a');
      if (a?.hasAttribute('href')) expect(a.getAttribute('href')).not.toMatch(/script|data:/i);
    }
  });

  it('opens links in a new tab with noopener noreferrer nofollow', () => {
    const el = dom(renderMarkdown('See [our policy](https://shop.example/returns) or https://shop.example/faq or [mail](mailto:help@shop.example).'));
    const links = Array.from(el.querySelectorAll('a'));
    expect(links).toHaveLength(3);
    for (const a of links) {
      expect(a.getAttribute('target')).toBe('_blank');
      expect(a.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    }
  });

  it('turns images from elsewhere into links (CSP img-src self, no tracking pixels)', () => {
    const el = dom(renderMarkdown('![pixel](https://tracker.example/p.gif) ![logo](/static/logo.png) ![x](javascript:alert(1))'));
    const imgs = Array.from(el.querySelectorAll('img'));
    expect(imgs.map((i) => i.getAttribute('src'))).toEqual(['/static/logo.png']);
    expect(el.querySelector('a[href="https://tracker.example/p.gif"]')?.textContent).toBe('pixel');
    assertInert(el.innerHTML);
  });
});

describe('sanitizeHtml', () => {
  const payloads = [
    '<script>alert(1)</script>',
    '<img src=x onerror="alert(1)">',
    '<svg onload="alert(1)"><circle r=5 /></svg>',
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    '<embed src="data:image/svg+xml,<svg onload=alert(1)>">',
    '<details open ontoggle="alert(1)">x</details>',
    '<base href="javascript:alert(1)//">',
    '<p><noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript></p>',
  ];

  it.each(payloads)('neutralises %s', (payload) => {
    assertInert(sanitizeHtml(payload));
  });

  it('keeps harmless markup', () => {
    const el = dom(sanitizeHtml('<p>Hi <em>there</em> <a href="https://a.example">a</a></p><table><tr><td>1</td></tr></table>'));
    expect(el.querySelector('em')?.textContent).toBe('there');
    expect(el.querySelector('a')?.getAttribute('href')).toBe('https://a.example');
    expect(el.querySelector('td')?.textContent).toBe('1');
  });
});

describe('BlockRenderer', () => {
  it('renders the same HTML as the whole text, block by block', () => {
    const text = 'First paragraph.\n\n- one\n- two\n\n```\ncode\n```\n\nLast *one*.';
    expect(new BlockRenderer().render(text).join('')).toBe(renderMarkdown(text));
  });

  it('reuses finished blocks while the last one grows', () => {
    const r = new BlockRenderer();
    const a = r.render('Para one.\n\nPara t');
    const b = r.render('Para one.\n\nPara two is longer');
    expect(a).toHaveLength(2);
    expect(b[0]).toBe(a[0]);
    expect(b[1]).toContain('Para two is longer');
  });

  it('copes with half-written Markdown (an open code fence, a half link)', () => {
    const r = new BlockRenderer();
    const html = r.render('Try:\n\n```sh\ncurl https://exa').join('');
    expect(dom(html).querySelector('pre code')?.textContent).toContain('curl https://exa');
    assertInert(r.render('[a link](javascript:al').join(''));
  });
});
