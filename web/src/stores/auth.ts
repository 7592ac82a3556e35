import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import * as authApi from '../api/auth';
import type { AttachmentRules } from '../api/auth';
import { ApiError } from '../api/client';
import type { Role, User } from '../api/types';

/** Who is signed in, how to sign in (password or SSO) and out. */
export const useAuthStore = defineStore('auth', () => {
  const user = ref<User | null>(null);
  /** The first `GET /api/me` has answered (signed in or not). */
  const ready = ref(false);
  const sso = ref<{ enabled: boolean; loginUrl: string }>({ enabled: false, loginUrl: '/api/auth/oidc/login' });
  /** Domains links in messages may point to, besides an answer's own sources (ANSWER_LINK_ALLOWED_DOMAINS). */
  const linkDomains = ref<string[]>([]);
  /** The size and types the server accepts for attachments (null until known: the server still checks). */
  const attachmentRules = ref<AttachmentRules | null>(null);
  let loading: Promise<void> | undefined;

  const signedIn = computed(() => user.value !== null);
  const role = computed<Role | null>(() => user.value?.role ?? null);
  const isAgent = computed(() => role.value === 'agent' || role.value === 'admin');
  const isAdmin = computed(() => role.value === 'admin');

  function hasRole(roles: Role[] | undefined): boolean {
    return !roles || (role.value !== null && roles.includes(role.value));
  }

  /** Loads the current user once (concurrent callers share the request). */
  function load(): Promise<void> {
    loading ??= (async () => {
      try {
        user.value = await authApi.fetchMe();
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 401)
          console.warn('could not load the current user', error);
        user.value = null;
      } finally {
        ready.value = true;
      }
    })();
    return loading;
  }

  async function loadConfig(): Promise<void> {
    try {
      const config = await authApi.fetchAuthConfig();
      sso.value = { enabled: config.sso.enabled, loginUrl: config.sso.loginUrl ?? '/api/auth/oidc/login' };
      linkDomains.value = config.answerLinks?.allowedDomains ?? [];
      attachmentRules.value = config.attachments ?? null;
    } catch {
      sso.value = { enabled: false, loginUrl: '/api/auth/oidc/login' };
    }
  }

  async function login(email: string, password: string): Promise<User> {
    const signedIn = await authApi.login(email, password);
    user.value = signedIn;
    ready.value = true;
    loading = Promise.resolve();
    return signedIn;
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout();
    } finally {
      forget();
    }
  }

  /** The session is gone (expired, revoked, signed out elsewhere). */
  function forget() {
    user.value = null;
    ready.value = true;
    loading = Promise.resolve();
  }

  /** Where a person lands after signing in. */
  function homePath(): string {
    if (role.value === 'admin') return '/admin';
    if (role.value === 'agent') return '/agent';
    return '/';
  }

  return {
    user,
    ready,
    sso,
    signedIn,
    role,
    isAgent,
    isAdmin,
    hasRole,
    load,
    loadConfig,
    linkDomains,
    attachmentRules,
    login,
    logout,
    forget,
    homePath,
  };
});
