import { defineStore } from 'pinia';
import { ref } from 'vue';
import { fetchOrganisation } from '../api/organisation';
import type { Organisation } from '../api/types';

/** The organisation's name and logo (sign-in page, header), loaded once and replaced when an admin changes them. */
export const useOrganisationStore = defineStore('organisation', () => {
  const organisation = ref<Organisation>({ name: '', logoUrl: null });
  let loading: Promise<void> | undefined;

  function load(): Promise<void> {
    loading ??= fetchOrganisation().then(
      (value) => void (organisation.value = value),
      // Not fatal: the app shows its own name.
      () => undefined,
    );
    return loading;
  }

  function replace(value: Organisation) {
    organisation.value = value;
  }

  return { organisation, load, replace };
});
