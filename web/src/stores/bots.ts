import { defineStore } from 'pinia';
import { ref } from 'vue';
import { listBots } from '../api/bots';
import { isMissing } from '../api/client';
import type { Bot } from '../api/types';

/** The bots an employee may chat with. Until the bots API exists the list is simply empty. */
export const useBotsStore = defineStore('bots', () => {
  const bots = ref<Bot[]>([]);
  const loaded = ref(false);
  const unavailable = ref(false);
  const error = ref<unknown>(null);

  async function fetch(): Promise<void> {
    try {
      bots.value = await listBots();
      unavailable.value = false;
      error.value = null;
    } catch (e) {
      bots.value = [];
      if (isMissing(e)) unavailable.value = true;
      else error.value = e;
    } finally {
      loaded.value = true;
    }
  }

  function byId(id: string | null | undefined): Bot | undefined {
    return id ? bots.value.find((b) => b.id === id) : undefined;
  }

  return { bots, loaded, unavailable, error, fetch, byId };
});
