import { ref } from 'vue';
import { listGroups } from '../api/groups';
import type { Group } from '../api/types';

/** The departments, for pickers (user groups, collection permissions). */
export function useGroups() {
  const groups = ref<Group[]>([]);
  async function load() {
    try {
      groups.value = (await listGroups()).items;
    } catch {
      groups.value = [];
    }
  }
  return { groups, load };
}
