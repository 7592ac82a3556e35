import { describe, expect, it } from 'vitest';
import { createLinkFilter, keepAllowedLinks, linkAllowed } from '../../server/src/core/bots/answer-links.ts';

const policy = { sourceUrls: ['https://docs.corp.example/handbook#leave'], allowedDomains: ['wiki.corp.example'] };

describe('links in answers', () => {
  it('keeps links to a source’s own URL or an allowed domain (and its subdomains), nothing else', () => {
    expect(linkAllowed('https://docs.corp.example/handbook', policy)).toBe(true);
    expect(linkAllowed('https://docs.corp.example/other', policy)).toBe(false);
    expect(linkAllowed('https://team.wiki.corp.example/page', policy)).toBe(true);
    expect(linkAllowed('https://wiki.corp.example.evil.example/', policy)).toBe(false);
    expect(linkAllowed('javascript:alert(1)', policy)).toBe(false);
    expect(linkAllowed('/relative', policy)).toBe(false);
  });

  it('turns other links into their text, images into their alt text, bare addresses into code', () => {
    expect(keepAllowedLinks('Log in at the [portal](http://evil.example/phish) [1].', policy)).toBe(
      'Log in at the portal [1].',
    );
    expect(keepAllowedLinks('See the [handbook](https://docs.corp.example/handbook) [2].', policy)).toBe(
      'See the [handbook](https://docs.corp.example/handbook) [2].',
    );
    expect(
      keepAllowedLinks('![pixel](https://wiki.corp.example/p.png) <img src="http://x.example/a" alt="a">', policy),
    ).toBe('pixel a');
    expect(keepAllowedLinks('Go to http://evil.example/phish. Or <https://evil.example/a>.', policy)).toBe(
      'Go to `http://evil.example/phish`. Or `https://evil.example/a`.',
    );
    expect(keepAllowedLinks('<a href="http://evil.example">click</a>', policy)).toBe('click');
    expect(keepAllowedLinks('[ref]: http://evil.example/r\nSee [here][ref].', policy)).toBe('\nSee [here][ref].');
    expect(keepAllowedLinks('请访问[门户](http://evil.example/phish)。[1]', policy)).toBe('请访问门户。[1]');
    expect(keepAllowedLinks('`http://evil.example/in-code` stays', policy)).toBe('`http://evil.example/in-code` stays');
  });

  it('judges a streamed link whole, however the deltas split it', () => {
    const text =
      'Log in at the [portal](http://evil.example/phish) or www.evil.example/x, see ' +
      '[the wiki](https://wiki.corp.example/a) and <a href="http://evil.example">here</a> [1].';
    for (const size of [1, 2, 3, 5, 8, 13]) {
      const filter = createLinkFilter(policy);
      let out = '';
      for (let i = 0; i < text.length; i += size) out += filter.push(text.slice(i, i + size));
      out += filter.end();
      expect(out, `deltas of ${size}`).toBe(keepAllowedLinks(text, policy));
      expect(out).not.toContain('evil.example/phish)');
    }
  });

  it('lets ordinary prose through as it streams', () => {
    const filter = createLinkFilter(policy);
    expect([filter.push('Salaries are paid '), filter.push('on the 25th [1].'), filter.end()]).toEqual([
      'Salaries are paid ',
      'on the 25th [1].',
      '',
    ]);
  });
});
