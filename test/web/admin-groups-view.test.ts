// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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
  const wrapper = mount(AdminGroupsView, { global: { plugins: [i18nPlugin] }, attachTo: document.body });
  return { wrapper, deleteUrls };
}

/** The in-app dialog's text and its confirming button (the dialog is teleported to the body). */
const dialogText = () => document.body.querySelector('[role="dialog"]')?.textContent ?? '';
async function confirmInDialog() {
  document.body.querySelector<HTMLButtonElement>('[data-testid="group-delete-confirm"]')!.click();
  await flushPromises();
}

/** Clicks the row's Delete and confirms the first question. */
async function deleteHr(wrapper: ReturnType<typeof mount>) {
  await flushPromises();
  const remove = wrapper.findAll('tbody button').find((b) => ['Delete', '删除'].includes(b.text()));
  await remove!.trigger('click');
  await flushPromises();
  expect(dialogText()).toContain('HR');
  await confirmInDialog();
}

describe('AdminGroupsView', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });
  afterEach(() => {
    document.body.innerHTML = '';
  });

  it.each([
    ['en', ['HR files', 'Salary bands', 'HR Assistant', 'decides who reads']],
    ['zh-CN', ['HR files', 'Salary bands', 'HR Assistant', '决定了']],
  ] as const)(
    'says in %s what a group decides readers of, and keeps it when the admin declines',
    async (locale, words) => {
      setLocale(locale);
      const { wrapper, deleteUrls } = mountRefusingDelete();
      await deleteHr(wrapper);
      const alert = document.body.querySelector('[data-testid="group-in-use"]')!.textContent!;
      for (const word of words) expect(alert).toContain(word);
      // Cancel: nothing more is deleted.
      [...document.body.querySelectorAll<HTMLButtonElement>('[role="dialog"] button')]
        .find((b) => ['Cancel', '取消'].includes(b.textContent!.trim()))!
        .click();
      await flushPromises();
      expect(document.body.querySelector('[role="dialog"]')).toBeNull();
      expect(deleteUrls()).toHaveLength(1);
      wrapper.unmount();
    },
  );

  it('deletes it restricting its dependents to admins when the admin accepts', async () => {
    setLocale('en');
    const { wrapper, deleteUrls } = mountRefusingDelete();
    await deleteHr(wrapper);
    expect(dialogText()).toContain('Delete it anyway?');
    await confirmInDialog();
    expect(deleteUrls()).toHaveLength(2);
    expect(deleteUrls()[1]).toContain('onDependents=restrict-to-admins');
    expect(document.body.querySelector('[role="alert"]')).toBeNull();
    wrapper.unmount();
  });
});
