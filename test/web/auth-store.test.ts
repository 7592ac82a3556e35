// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../web/src/api/client';
import { useAuthStore } from '../../web/src/stores/auth';
import { me, mockFetch } from './helpers';

describe('auth store', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });

  it('signs in with email and password and knows the role', async () => {
    const { calls } = mockFetch({ 'POST /api/auth/login': { body: { token: 't', user: { ...me, role: 'agent' } } } });
    const auth = useAuthStore();
    await auth.login('me@example.test', 'pw');
    expect(calls[0]).toEqual({
      method: 'POST',
      path: '/api/auth/login',
      body: { email: 'me@example.test', password: 'pw' },
    });
    expect(auth.signedIn).toBe(true);
    expect(auth.isAgent).toBe(true);
    expect(auth.isAdmin).toBe(false);
    expect(auth.homePath()).toBe('/agent');
    expect(auth.hasRole(['admin'])).toBe(false);
    expect(auth.hasRole(undefined)).toBe(true);
  });

  it('turns the error shape into an ApiError with its code', async () => {
    mockFetch({
      'POST /api/auth/login': { status: 401, body: { error: { code: 'invalid_credentials', message: 'Wrong' } } },
    });
    const auth = useAuthStore();
    const error = await auth.login('x@example.test', 'bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid_credentials');
    expect((error as ApiError).status).toBe(401);
    expect(auth.signedIn).toBe(false);
  });

  it('loads the current user once, and is ready but signed out on 401', async () => {
    const { calls } = mockFetch({
      'GET /api/me': { status: 401, body: { error: { code: 'unauthorized', message: 'Sign in' } } },
    });
    const auth = useAuthStore();
    await Promise.all([auth.load(), auth.load()]);
    expect(calls.filter((c) => c.path === '/api/me')).toHaveLength(1);
    expect(auth.ready).toBe(true);
    expect(auth.signedIn).toBe(false);
  });

  it('offers SSO only when the server says it is enabled', async () => {
    mockFetch({ 'GET /api/auth/config': { body: { sso: { enabled: true, loginUrl: '/api/auth/oidc/login' } } } });
    const auth = useAuthStore();
    await auth.loadConfig();
    expect(auth.sso).toEqual({ enabled: true, loginUrl: '/api/auth/oidc/login' });
    mockFetch({ 'GET /api/auth/config': { body: { sso: { enabled: false } } } });
    await auth.loadConfig();
    expect(auth.sso.enabled).toBe(false);
  });

  it('signs out even when the server cannot be reached', async () => {
    mockFetch({ 'POST /api/auth/login': { body: { token: 't', user: { ...me, role: 'admin' } } } });
    const auth = useAuthStore();
    await auth.login('me@example.test', 'pw');
    expect(auth.homePath()).toBe('/admin');
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => Promise.reject(new TypeError('offline'))),
    );
    await auth.logout().catch(() => {});
    expect(auth.signedIn).toBe(false);
  });
});
