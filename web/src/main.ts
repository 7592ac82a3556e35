import { createPinia } from 'pinia';
import { createApp } from 'vue';
import { onUnauthorized } from './api/client';
import App from './App.vue';
import { i18nPlugin } from './i18n';
import { routeRealtimeToStores } from './realtime/dispatch';
import { createAppRouter } from './router';
import { useAuthStore } from './stores/auth';
import './styles.css';

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);
routeRealtimeToStores();
const router = createAppRouter();
app.use(router);
app.use(i18nPlugin);
// The allowed link domains: until they arrive, messages show links to their sources only.
void useAuthStore(pinia).loadConfig();

onUnauthorized(() => {
  const auth = useAuthStore(pinia);
  if (!auth.signedIn) return;
  auth.forget();
  const current = router.currentRoute.value;
  if (!current.meta.public) void router.replace({ name: 'login', query: { redirect: current.fullPath } });
});

app.mount('#app');
