import { ref } from 'vue';
import { api } from '../api/client';
import type { Group, Page } from '../api/types';

/** The departments, for pickers (user groups, collection permissions). */
export function useGroups() {
  const groups = ref<Group[]>([]);
  async function load() {
    try {
      groups.value = (await api<Page<Group>>('/api/groups', { query: { limit: 200 } })).items;
    } catch {
      groups.value = [];
    }
  }
  return { groups, load };
}
