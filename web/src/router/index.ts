import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import type { Role } from '../api/types';
import { useAuthStore } from '../stores/auth';

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean;
    /** Roles allowed; absent means any signed-in user. */
    roles?: Role[];
  }
}

// Every view is its own chunk: the first load carries only the shell.
const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('../views/LoginView.vue'), meta: { public: true } },
  { path: '/', name: 'chat', component: () => import('../views/ChatView.vue') },
  { path: '/c/:id', name: 'chat-conversation', component: () => import('../views/ChatView.vue') },
  { path: '/documents/:id', name: 'document', component: () => import('../views/DocumentView.vue') },
  { path: '/tokens', name: 'tokens', component: () => import('../views/TokensView.vue') },
  {
    path: '/agent',
    name: 'agent',
    component: () => import('../views/AgentView.vue'),
    meta: { roles: ['agent', 'admin'] },
  },
  {
    path: '/agent/c/:id',
    name: 'agent-conversation',
    component: () => import('../views/AgentView.vue'),
    meta: { roles: ['agent', 'admin'] },
  },
  {
    path: '/admin',
    component: () => import('../views/AdminView.vue'),
    meta: { roles: ['admin'] },
    children: [
      { path: '', redirect: { name: 'admin-users' } },
      { path: 'users', name: 'admin-users', component: () => import('../views/admin/AdminUsersView.vue') },
      { path: 'groups', name: 'admin-groups', component: () => import('../views/admin/AdminGroupsView.vue') },
      {
        path: 'knowledge/:collectionId?',
        name: 'admin-knowledge',
        component: () => import('../views/admin/AdminKnowledgeView.vue'),
      },
      { path: 'search', name: 'admin-search', component: () => import('../views/admin/AdminSearchView.vue') },
      { path: 'bots', name: 'admin-bots', component: () => import('../views/admin/AdminBotsView.vue') },
      { path: 'gaps', name: 'admin-gaps', component: () => import('../views/admin/AdminGapsView.vue') },
      { path: 'analytics', name: 'admin-analytics', component: () => import('../views/admin/AdminAnalyticsView.vue') },
      { path: 'audit', name: 'admin-audit', component: () => import('../views/admin/AdminAuditView.vue') },
      {
        path: 'organisation',
        name: 'admin-organisation',
        component: () => import('../views/admin/AdminOrganisationView.vue'),
      },
    ],
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('../views/NotFoundView.vue'),
    meta: { public: true },
  },
];

export function createAppRouter() {
  const router = createRouter({ history: createWebHistory(), routes });

  router.beforeEach(async (to) => {
    const auth = useAuthStore();
    await auth.load();
    if (to.name === 'login' && auth.signedIn) return auth.homePath();
    if (to.meta.public) return true;
    if (!auth.signedIn) return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} };
    // Roles of the matched parents count too (the admin children).
    const roles = to.matched.map((r) => r.meta.roles).find((r) => r);
    if (!auth.hasRole(roles)) return { path: '/' };
    return true;
  });

  return router;
}
