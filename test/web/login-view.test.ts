// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import { i18nPlugin, setLocale } from '../../web/src/i18n';
import LoginView from '../../web/src/views/LoginView.vue';
import { me, mockFetch } from './helpers';

async function mountAt(path: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', component: LoginView },
      { path: '/', component: { template: '<p>home</p>' } },
      { path: '/agent', component: { template: '<p>agent</p>' } },
    ],
  });
  await router.push(path);
  const wrapper = mount(LoginView, { global: { plugins: [router, i18nPlugin] } });
  await flushPromises();
  return { wrapper, router };
}

describe('LoginView', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
    setLocale('en');
  });

  it('offers "Sign in with SSO" only when the server has it configured', async () => {
    mockFetch({ 'GET /api/auth/config': { body: { sso: { enabled: true, loginUrl: '/api/auth/oidc/login' } } } });
    const { wrapper } = await mountAt('/login');
    const sso = wrapper.find('[data-testid="sso-login"]');
    expect(sso.exists()).toBe(true);
    expect(sso.attributes('href')).toBe('/api/auth/oidc/login');
    expect(sso.text()).toBe('Sign in with SSO');

    mockFetch({ 'GET /api/auth/config': { body: { sso: { enabled: false } } } });
    setActivePinia(createPinia());
    const { wrapper: without } = await mountAt('/login');
    expect(without.find('[data-testid="sso-login"]').exists()).toBe(false);
  });

  it('explains why single sign-on failed (/login?error=…)', async () => {
    mockFetch({ 'GET /api/auth/config': { body: { sso: { enabled: true } } } });
    const { wrapper } = await mountAt('/login?error=sso_account_conflict');
    expect(wrapper.find('[role="alert"]').text()).toContain('already exists');
    const { wrapper: unknown } = await mountAt('/login?error=weird_code');
    expect(unknown.find('[role="alert"]').text()).toBe('Sign-in failed (weird_code).');
  });

  it('signs in and goes where the role belongs (or back to where they were)', async () => {
    const { calls } = mockFetch({
      'GET /api/auth/config': { body: { sso: { enabled: false } } },
      'POST /api/auth/login': { body: { token: 't', user: { ...me, role: 'agent' } } },
    });
    const { wrapper, router } = await mountAt('/login');
    await wrapper.find('input[name="email"]').setValue(' me@example.test ');
    await wrapper.find('input[name="password"]').setValue('secret');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(calls.find((c) => c.path === '/api/auth/login')?.body).toEqual({
      email: 'me@example.test',
      password: 'secret',
    });
    expect(router.currentRoute.value.path).toBe('/agent');
  });

  it('shows a wrong password plainly, in the chosen language', async () => {
    setLocale('zh-CN');
    mockFetch({
      'GET /api/auth/config': { body: { sso: { enabled: false } } },
      'POST /api/auth/login': {
        status: 401,
        body: { error: { code: 'invalid_credentials', message: 'Invalid email or password' } },
      },
    });
    const { wrapper } = await mountAt('/login');
    await wrapper.find('input[name="email"]').setValue('me@example.test');
    await wrapper.find('input[name="password"]').setValue('nope');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(wrapper.find('[data-testid="login-error"]').text()).toBe('邮箱或密码不正确。');
    setLocale('en');
  });
});
