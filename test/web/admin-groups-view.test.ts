// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { i18nPlugin, setLocale } from '../../web/src/i18n';
import AdminGroupsView from '../../web/src/views/admin/AdminGroupsView.vue';
import { mockFetch } from './helpers';

const hr = { id: 'g-hr', name: 'HR', description: '', memberCount: 2, createdAt: '2026-11-27T08:00:00.000Z' };
const dependents = {
  collections: [{ id: 'k1', name: 'HR files' }],
  documents: [{ id: 'd1', title: 'Salary bands', collectionId: 'k2' }],
  bots: [{ id: 'b1', name: 'HR Assistant' }],
};

/** The groups page where deleting HR is refused the first time (409 naming what depends on it). */
function mountRefusingDelete() {
  let deletes = 0;
  const { fetchMock } = mockFetch({
    'GET /api/groups': { body: { items: [hr], next: null } },
    'DELETE /api/groups/g-hr': () =>
      ++deletes === 1
        ? { status: 409, body: { error: { code: 'group_in_use', message: 'in use', details: dependents } } }
        : { status: 204 },
  });
  const deleteUrls = () =>
    fetchMock.mock.calls.filter(([, init]) => init?.method === 'DELETE').map(([input]) => String(input));
  return { wrapper: mount(AdminGroupsView, { global: { plugins: [i18nPlugin] } }), deleteUrls };
}

async function deleteHr(wrapper: ReturnType<typeof mount>) {
  await flushPromises();
  const remove = wrapper.findAll('button').find((b) => ['Delete', '删除'].includes(b.text()));
  await remove!.trigger('click');
  await flushPromises();
}

describe('AdminGroupsView', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });

  it.each([
    ['en', ['HR files', 'Salary bands', 'HR Assistant', 'decides who reads']],
    ['zh-CN', ['HR files', 'Salary bands', 'HR Assistant', '决定了']],
  ] as const)(
    'says in %s what a group decides readers of, and keeps it when the admin declines',
    async (locale, words) => {
      setLocale(locale);
      const confirm = vi.fn().mockReturnValueOnce(true).mockReturnValueOnce(false);
      vi.stubGlobal('confirm', confirm);
      const { wrapper, deleteUrls } = mountRefusingDelete();
      await deleteHr(wrapper);
      const alert = wrapper.get('[role="alert"]').text();
      for (const word of words) expect(alert).toContain(word);
      expect(confirm.mock.calls[1]![0]).toContain(alert);
      expect(deleteUrls()).toHaveLength(1);
    },
  );

  it('deletes it restricting its dependents to admins when the admin accepts', async () => {
    setLocale('en');
    vi.stubGlobal('confirm', vi.fn().mockReturnValue(true));
    const { wrapper, deleteUrls } = mountRefusingDelete();
    await deleteHr(wrapper);
    expect(deleteUrls()).toHaveLength(2);
    expect(deleteUrls()[1]).toContain('onDependents=restrict-to-admins');
    expect(wrapper.find('[role="alert"]').exists()).toBe(false);
  });
});
