// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import { i18nPlugin, setLocale } from '../../web/src/i18n';
import AdminKnowledgeView from '../../web/src/views/admin/AdminKnowledgeView.vue';
import { mockFetch } from './helpers';

const hr = { id: 'g-hr', name: 'HR' };
const sales = { id: 'g-sales', name: 'Sales' };

function collection(groups: { id: string; name: string }[]) {
  const at = '2026-11-27T08:00:00.000Z';
  return {
    id: 'k1',
    name: 'Handbook',
    description: '',
    readers: 'groups',
    groups,
    documentCount: 0,
    createdBy: null,
    createdAt: at,
    updatedAt: at,
  };
}

describe('AdminKnowledgeView', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
    setLocale('en');
  });

  it("ticks a collection's readers and adds a group to them by id", async () => {
    const { calls } = mockFetch({
      'GET /api/collections': { body: { items: [collection([hr])], next: null } },
      'PATCH /api/collections/k1': { body: { collection: collection([hr, sales]) } },
      'GET /api/groups': { body: { items: [hr, sales], next: null } },
      'GET /api/collections/k1/documents': { body: { items: [], next: null } },
    });
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [{ path: '/admin/knowledge/:collectionId?', name: 'admin-knowledge', component: AdminKnowledgeView }],
    });
    await router.push('/admin/knowledge/k1');
    const wrapper = mount(AdminKnowledgeView, { global: { plugins: [router, i18nPlugin] } });
    await flushPromises();

    const readers = wrapper.findAll('fieldset.readers label');
    expect(readers.map((r) => [r.text(), (r.find('input').element as HTMLInputElement).checked])).toEqual([
      ['Everyone', false],
      ['Members of these groups', true],
      ['HR', true],
      ['Sales', false],
    ]);
    await readers[3]!.find('input').setValue(true);
    await flushPromises();
    const patch = {
      method: 'PATCH',
      path: '/api/collections/k1',
      body: { readers: 'groups', groups: ['g-hr', 'g-sales'] },
    };
    expect(calls).toContainEqual(patch);
    // Opening it to everyone is its own choice, never an emptied list of groups.
    await readers[0]!.find('input').setValue(true);
    await flushPromises();
    expect(calls).toContainEqual({ method: 'PATCH', path: '/api/collections/k1', body: { readers: 'everyone' } });
  });
});
