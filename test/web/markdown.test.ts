// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { isAllowedImageSource, renderMarkdown, type LinkPolicy } from '../../web/src/utils/markdown';

function render(source: string, links?: LinkPolicy): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = renderMarkdown(source, undefined, links);
  return div;
}

describe('safe Markdown', () => {
  it('renders ordinary Markdown', () => {
    const el = render(
      '**Annual leave** is `15` days.\n\n- one\n- two\n\n[Handbook](https://intranet.example/handbook)',
      { sourceUrls: [], allowedDomains: ['intranet.example'] },
    );
    expect(el.querySelector('strong')?.textContent).toBe('Annual leave');
    expect(el.querySelectorAll('li')).toHaveLength(2);
    const link = el.querySelector('a')!;
    expect(link.getAttribute('href')).toBe('https://intranet.example/handbook');
    expect(link.getAttribute('target')).toBe('_blank');
    expect(link.getAttribute('rel')).toContain('noopener');
  });

  it('never renders script, iframes or event handlers', () => {
    const el = render(
      '<script>alert(1)</script>\n\n<iframe src="https://evil.example"></iframe>\n\n<img src=x onerror="alert(1)">\n\n<a href="#" onclick="alert(1)">x</a>',
    );
    expect(el.querySelector('script, iframe')).toBeNull();
    const attributes = [...el.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name));
    expect(attributes.filter((a) => a.startsWith('on'))).toEqual([]);
    // raw HTML is shown as text, not executed
    expect(el.textContent).toContain('<script>alert(1)</script>');
  });

  it('drops javascript: links', () => {
    const el = render(
      '[click](javascript:alert(1)) [also](JAVASCRIPT:alert(2)) [data](data:text/html,<script>1</script>)',
    );
    const hrefs = [...el.querySelectorAll('a')].map((a) => a.getAttribute('href') ?? '');
    expect(hrefs.filter((h) => /^(javascript|data):/i.test(h.trim()))).toEqual([]);
  });

  it('loads images only from data: URIs or this origin (no tracking pixels)', () => {
    const el = render(
      '![pixel](http://evil.example/p.gif) ![local](/api/files/a.png) ![inline](data:image/png;base64,iVBORw0KGgo=)',
    );
    const images = [...el.querySelectorAll('img')];
    const byAlt = Object.fromEntries(images.map((img) => [img.getAttribute('alt'), img.getAttribute('src')]));
    expect(byAlt.pixel).toBeNull();
    expect(byAlt.local).toBe('/api/files/a.png');
    expect(byAlt.inline).toBe('data:image/png;base64,iVBORw0KGgo=');
    expect(el.innerHTML).not.toContain('evil.example');
  });

  it('keeps links to a cited source or an allowed domain; any other link shows as its text', () => {
    const el = render(
      'Log in at the [portal](http://evil.example/phish), see the [handbook](https://docs.corp.example/handbook) ' +
        'and the [wiki](https://team.wiki.corp.example/leave), or http://evil.example/bare, or ' +
        '[mail](mailto:x@evil.example), or [home](/admin). ![pixel](https://wiki.corp.example/p.gif)',
      { sourceUrls: ['https://docs.corp.example/handbook#top'], allowedDomains: ['wiki.corp.example'] },
    );
    const hrefs = [...el.querySelectorAll('a')].map((a) => a.getAttribute('href'));
    expect(hrefs).toEqual(['https://docs.corp.example/handbook', 'https://team.wiki.corp.example/leave']);
    // The text of every dropped link stays readable.
    expect(el.textContent).toContain('Log in at the portal,');
    expect(el.textContent).toContain('http://evil.example/bare');
    expect(el.textContent).toContain('mail');
    // No remote image loads, even from an allowed domain.
    expect(el.querySelector('img')?.getAttribute('src')).toBeNull();
    expect(el.innerHTML).not.toContain('href="http://evil.example');
  });

  it('without a policy, keeps no link at all', () => {
    const el = render('[Handbook](https://intranet.example/handbook) and https://intranet.example/x');
    expect(el.querySelector('a')).toBeNull();
    expect(el.textContent).toContain('Handbook');
  });

  it('knows which image sources are allowed', () => {
    expect(isAllowedImageSource('//evil.example/x.png', 'https://enclave.example')).toBe(false);
    expect(isAllowedImageSource('https://enclave.example/a.png', 'https://enclave.example')).toBe(true);
    expect(isAllowedImageSource('https://cdn.example/a.png', 'https://enclave.example')).toBe(false);
    expect(isAllowedImageSource('data:image/svg+xml;base64,PHN2Zz4=', 'https://enclave.example')).toBe(false);
  });
});

describe('inline citation markers', () => {
  it('turns known [n] markers into buttons, but not in code or unknown numbers', () => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('Leave is 15 days [1], see also [2] and `[1]` and [9].', {
      indexes: [1, 2],
      label: (n) => `Source ${n}`,
    });
    const buttons = [...div.querySelectorAll('button.cite')];
    expect(buttons.map((b) => b.getAttribute('data-cite'))).toEqual(['1', '2']);
    expect(buttons[0]!.getAttribute('aria-label')).toBe('Source 1');
    expect(div.querySelector('code')!.textContent).toBe('[1]');
    expect(div.textContent).toContain('[9]');
  });
});
