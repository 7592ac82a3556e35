// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import DocumentFaqImport from '../../web/src/components/DocumentFaqImport.vue';
import { i18nPlugin, setLocale } from '../../web/src/i18n';
import { useKnowledgeStore } from '../../web/src/stores/knowledge';
import { knowledgeDocument, mockFetch, type MockCall } from './helpers';

const BULK = 'POST /api/collections/k1/documents/bulk';

/** The bulk endpoint: every question starting with "old" is already in the collection. */
function bulkAnswer(call: MockCall) {
  const { documents } = call.body as { documents: { question: string; answer: string }[] };
  const items = documents.map((d, i) => ({
    document: knowledgeDocument({ id: `${d.question}-${i}`, title: d.question }),
    duplicate: d.question.startsWith('old'),
  }));
  return { status: items.every((i) => i.duplicate) ? 200 : 202, body: { items } };
}

function mountImport() {
  return mount(DocumentFaqImport, {
    props: { collectionId: 'k1' },
    global: { plugins: [i18nPlugin] },
    attachTo: document.body,
  });
}

const text = (wrapper: ReturnType<typeof mountImport>, id: string) => wrapper.find(`[data-testid="${id}"]`).text();

describe('DocumentFaqImport', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
    setLocale('en');
    useKnowledgeStore().documents = { k1: [] };
  });

  it('previews pasted rows with their problems, imports the good ones in one request and lists the new documents', async () => {
    const { calls } = mockFetch({ [BULK]: bulkAnswer });
    const wrapper = mountImport();
    await wrapper
      .find('[data-testid="faq-import-text"]')
      .setValue('Question,Answer\nHow?,"Like this, then that"\n,orphan answer\nold one,known\n');
    expect(text(wrapper, 'faq-import-count')).toBe('Pairs to import: 2');
    expect(wrapper.findAll('[data-testid="faq-import-pair"]').map((r) => r.text())).toEqual([
      '2How?Like this, then that',
      '4old oneknown',
    ]);
    expect(text(wrapper, 'faq-import-errors')).toBe('Line 3: the question is empty');

    await wrapper.find('[data-testid="faq-import-submit"]').trigger('click');
    await flushPromises();
    expect(calls.filter((c) => c.method === 'POST')).toEqual([
      {
        method: 'POST',
        path: '/api/collections/k1/documents/bulk',
        body: {
          documents: [
            { question: 'How?', answer: 'Like this, then that' },
            { question: 'old one', answer: 'known' },
          ],
        },
      },
    ]);
    expect(text(wrapper, 'faq-import-summary')).toBe('Added: 1. Already in the collection: 1.');
    expect(
      useKnowledgeStore()
        .documents.k1!.map((d) => d.title)
        .sort(),
    ).toEqual(['How?', 'old one']);
    // done: the box is cleared so the same rows are not sent twice by accident
    expect((wrapper.find('[data-testid="faq-import-text"]').element as HTMLTextAreaElement).value).toBe('');
    wrapper.unmount();
  });

  it('reads a chosen TSV file, and after a failed batch says what was not imported and can import the rest', async () => {
    let fail = true;
    const { calls } = mockFetch({
      [BULK]: (call) => {
        const n = calls.filter((c) => c.method === 'POST').length;
        if (n === 2 && fail) {
          fail = false;
          return { status: 400, body: { error: { code: 'invalid_input', message: 'documents.0.answer: Too big' } } };
        }
        return bulkAnswer(call);
      },
    });
    const rows = Array.from({ length: 250 }, (_, i) => `q${i}\ta${i}`);
    const file = new File([`\uFEFFquestion\tanswer\r\n${rows.join('\r\n')}`], 'faq.tsv', {
      type: 'text/tab-separated-values',
    });
    const wrapper = mountImport();
    const input = wrapper.find('[data-testid="faq-import-file"]');
    Object.defineProperty(input.element, 'files', { value: [file], configurable: true });
    await input.trigger('change');
    await flushPromises();
    expect(text(wrapper, 'faq-import-count')).toBe('Pairs to import: 250');
    expect(wrapper.text()).toContain('faq.tsv (UTF-8)');
    expect(wrapper.text()).toContain('tab-separated');

    await wrapper.find('[data-testid="faq-import-submit"]').trigger('click');
    await flushPromises();
    const posts = () =>
      calls.filter((c) => c.method === 'POST').map((c) => (c.body as { documents: unknown[] }).documents.length);
    expect(posts()).toEqual([200, 50]);
    const summary = text(wrapper, 'faq-import-summary');
    expect(summary).toContain('Added: 200. Already in the collection: 0.');
    expect(summary).toContain('The import stopped: documents.0.answer: Too big');
    // rows 202.. (line 1 is the header): the second batch starts with q200 on line 202
    expect(summary).toContain('Not imported: 50 pairs, from line 202 on.');
    expect(useKnowledgeStore().documents.k1).toHaveLength(200);

    await wrapper.find('[data-testid="faq-import-retry"]').trigger('click');
    await flushPromises();
    expect(posts()).toEqual([200, 50, 50]);
    expect((calls.at(-1)!.body as { documents: { question: string }[] }).documents[0]!.question).toBe('q200');
    expect(text(wrapper, 'faq-import-summary')).toBe('Added: 250. Already in the collection: 0.');
    expect(useKnowledgeStore().documents.k1).toHaveLength(250);
    wrapper.unmount();
  });

  it('offers no import while nothing valid is there', async () => {
    mockFetch({});
    const wrapper = mountImport();
    expect(wrapper.find('[data-testid="faq-import-submit"]').attributes('disabled')).toBeDefined();
    await wrapper.find('[data-testid="faq-import-text"]').setValue('question,answer\nq,\n');
    expect(text(wrapper, 'faq-import-count')).toBe('Pairs to import: 0');
    expect(wrapper.find('[data-testid="faq-import-submit"]').attributes('disabled')).toBeDefined();
    wrapper.unmount();
  });
});
