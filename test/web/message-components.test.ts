// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Conversation, Message } from '../../web/src/api/types';
import MessageCitations from '../../web/src/components/MessageCitations.vue';
import MessageList from '../../web/src/components/MessageList.vue';
import MessageListItem from '../../web/src/components/MessageListItem.vue';
import { i18nPlugin, setLocale } from '../../web/src/i18n';
import { useAuthStore } from '../../web/src/stores/auth';
import { conversation, me, message } from './helpers';

const citations = [
  {
    index: 1,
    documentId: 'd1',
    chunkId: 'k1',
    title: 'Employee Handbook',
    page: 12,
    snippet: 'Annual leave is 15 working days.',
  },
  {
    index: 2,
    documentId: 'd2',
    chunkId: 'k2',
    title: 'Travel Policy',
    page: null,
    snippet: 'Book trains in second class.',
  },
];

describe('message rendering', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    useAuthStore().user = { ...me };
    setLocale('en');
    document.body.innerHTML = '';
  });

  it('renders a message as sanitised Markdown: no script, no remote image', () => {
    const wrapper = mount(MessageListItem, {
      props: {
        message: message({
          body: 'Hi **there**\n\n<script>window.pwned = true</script>\n\n<img src="http://evil/x.png">\n\n![t](http://evil/track.gif)',
        }) as unknown as Message,
      },
      global: { plugins: [i18nPlugin] },
    });
    const html = wrapper.html();
    expect(wrapper.find('strong').text()).toBe('there');
    expect(wrapper.find('script').exists()).toBe(false);
    expect(wrapper.findAll('img').every((img) => !img.attributes('src'))).toBe(true);
    expect(wrapper.findAll('img').map((img) => img.attributes('src'))).toEqual(
      [undefined, undefined].slice(0, wrapper.findAll('img').length),
    );
    // raw HTML stays visible as text
    expect(wrapper.text()).toContain('<script>window.pwned = true</script>');
    expect(html).not.toMatch(/<img[^>]+src="http/);
    expect((window as unknown as { pwned?: boolean }).pwned).toBeUndefined();
  });

  it('keeps a bot answer’s link to its cited source and to allowed domains, not to anywhere else', () => {
    useAuthStore().linkDomains = ['wiki.corp.example'];
    const wrapper = mount(MessageListItem, {
      props: {
        message: message({
          senderType: 'bot',
          senderId: 'b1',
          senderName: 'HR Assistant',
          body: 'Log in at the [portal](http://evil.example/phish) ![x](http://evil.example/t.gif), see [the handbook](https://docs.corp.example/handbook) [1] and [the wiki](https://wiki.corp.example/leave).',
          citations: [{ ...citations[0]!, url: 'https://docs.corp.example/handbook' }],
        }) as unknown as Message,
      },
      global: { plugins: [i18nPlugin] },
    });
    expect(wrapper.findAll('a').map((a) => a.attributes('href'))).toEqual([
      'https://docs.corp.example/handbook',
      'https://wiki.corp.example/leave',
    ]);
    expect(wrapper.text()).toContain('Log in at the portal');
    expect(wrapper.html()).not.toContain('evil.example');
  });

  it('labels senders, internal notes and failed sends', async () => {
    const note = mount(MessageListItem, {
      props: {
        message: message({
          senderType: 'agent',
          senderId: 'u-agent',
          senderName: 'Alice',
          internal: true,
          body: 'VIP customer',
        }) as unknown as Message,
      },
      global: { plugins: [i18nPlugin] },
    });
    expect(note.classes()).toContain('internal');
    expect(note.text()).toContain('Alice');
    expect(note.text()).toContain('Internal note');

    const failed = mount(MessageListItem, {
      props: {
        message: message({
          id: 0,
          senderType: 'user',
          senderId: 'u-me',
          status: 'failed-send',
          clientId: 'abc',
        }) as unknown as Message,
      },
      global: { plugins: [i18nPlugin] },
    });
    expect(failed.text()).toContain('You');
    await failed
      .findAll('button')
      .find((b) => b.text() === 'Retry')!
      .trigger('click');
    expect(failed.emitted('retry')).toEqual([['abc']]);
  });

  it('shows feedback buttons only on complete bot answers when asked', () => {
    const bot = mount(MessageListItem, {
      props: { message: message() as unknown as Message, showFeedback: true },
      global: { plugins: [i18nPlugin] },
    });
    expect(bot.find('[aria-label="Helpful"]').exists()).toBe(true);
    const streaming = mount(MessageListItem, {
      props: { message: message({ status: 'streaming' }) as unknown as Message, showFeedback: true },
      global: { plugins: [i18nPlugin] },
    });
    expect(streaming.find('[aria-label="Helpful"]').exists()).toBe(false);
  });
});

describe('citations', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    useAuthStore().user = { ...me };
    setLocale('en');
    document.body.innerHTML = '';
  });

  it('shows numbered chips with accessible names', async () => {
    const wrapper = mount(MessageCitations, { props: { citations }, global: { plugins: [i18nPlugin] } });
    const chips = wrapper.findAll('[data-testid="citation-chip"]');
    expect(chips.map((c) => c.text())).toEqual(['1', '2']);
    expect(chips[0]!.attributes('aria-label')).toBe('Source 1: Employee Handbook');
    await chips[1]!.trigger('click');
    expect(wrapper.emitted('open')).toEqual([[citations[1]]]);
  });

  it('opens the cited passage with its document title, page and snippet', async () => {
    const wrapper = mount(MessageList, {
      props: {
        conversation: conversation() as unknown as Conversation,
        messages: [message({ id: 3, body: 'Annual leave is 15 days [1].', citations }) as unknown as Message],
      },
      global: { plugins: [i18nPlugin] },
      attachTo: document.body,
    });
    expect(document.querySelector('[data-testid="citation-panel"]')).toBeNull();
    await wrapper.find('[data-testid="citation-chip"]').trigger('click');
    const panel = document.querySelector('[data-testid="citation-panel"]')!;
    expect(panel.textContent).toContain('Employee Handbook');
    expect(panel.textContent).toContain('Page 12');
    expect(panel.textContent).toContain('Annual leave is 15 working days.');
    expect(document.querySelector('[role="dialog"]')?.getAttribute('aria-label')).toBe('Source 1');
    // Escape closes it
    document
      .querySelector('[role="dialog"]')!
      .dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    await wrapper.vm.$nextTick();
    expect(document.querySelector('[data-testid="citation-panel"]')).toBeNull();
    wrapper.unmount();
  });

  it('renders in Chinese when the language is switched', async () => {
    setLocale('zh-CN');
    const wrapper = mount(MessageCitations, { props: { citations }, global: { plugins: [i18nPlugin] } });
    expect(wrapper.text()).toContain('来源');
    expect(wrapper.find('[data-testid="citation-chip"]').attributes('aria-label')).toBe('来源 1：Employee Handbook');
    setLocale('en');
  });
});

describe('inline citations in a message', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    useAuthStore().user = { ...me };
    setLocale('en');
    document.body.innerHTML = '';
  });

  it('a [1] in the answer opens the same passage as the chip', async () => {
    const wrapper = mount(MessageList, {
      props: {
        conversation: conversation() as unknown as Conversation,
        messages: [message({ id: 3, body: 'Annual leave is 15 days [1].', citations }) as unknown as Message],
      },
      global: { plugins: [i18nPlugin] },
      attachTo: document.body,
    });
    await wrapper.find('.md-body button.cite').trigger('click');
    expect(document.querySelector('[data-testid="citation-panel"]')?.textContent).toContain('Employee Handbook');
    wrapper.unmount();
  });
});
