// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { createPinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import CitationPanel from '../../web/src/components/CitationPanel.vue';
import { i18nPlugin } from '../../web/src/i18n';

describe('a cited passage that holds a table', () => {
  it('shows the table as a table, header above its rows, the text around it as text', async () => {
    const wrapper = mount(CitationPanel, {
      props: {
        citation: {
          index: 1,
          documentId: 'd1',
          chunkId: 'k1',
          title: 'facilities',
          page: 2,
          snippet:
            'Parking fees\n\n| Garage | Hourly fee | Day ticket |\n| --- | --- | --- |\n| Garage A | 2 EUR | 12 EUR |\n| Garage B | 3 EUR | 15 EUR |\n| Garage C \\| west | 1 EUR | 8 EUR…',
        },
      },
      global: { plugins: [i18nPlugin, createPinia()], stubs: { RouterLink: true } },
      attachTo: document.body,
    });
    const panel = document.querySelector('[data-testid="citation-panel"]')!;
    expect(panel.textContent).toContain('Page 2');
    expect(panel.querySelector('.md-body')?.textContent?.trim()).toBe('Parking fees');
    const table = panel.querySelector('[data-testid="passage-table"]')!;
    expect([...table.querySelectorAll('th')].map((th) => th.textContent)).toEqual([
      'Garage',
      'Hourly fee',
      'Day ticket',
    ]);
    expect([...table.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent))).toEqual([
      ['Garage A', '2 EUR', '12 EUR'],
      ['Garage B', '3 EUR', '15 EUR'],
      // A pipe inside a cell, and the last row as far as the snippet goes.
      ['Garage C | west', '1 EUR', '8 EUR'],
    ]);
    expect(panel.textContent).not.toContain('| --- |');
    wrapper.unmount();
  });
});
