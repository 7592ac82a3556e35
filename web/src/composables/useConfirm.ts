import { shallowRef } from 'vue';

export interface ConfirmRequest {
  title: string;
  message: string;
  /** The button that does it ("Delete", "Revoke"); it is styled as dangerous. */
  action: string;
}

interface Pending extends ConfirmRequest {
  answer: (yes: boolean) => void;
}

/** The one question on screen (App.vue's ConfirmDialog shows it). */
const pending = shallowRef<Pending | null>(null);

/**
 * Asks before something that cannot be undone, in a dialog of the app (translated, styled, seen
 * by screenshots) rather than the browser's `window.confirm`. Resolves true when confirmed.
 */
export function useConfirm() {
  return (request: ConfirmRequest): Promise<boolean> =>
    new Promise((resolve) => {
      pending.value?.answer(false);
      pending.value = { ...request, answer: resolve };
    });
}

/** For the dialog itself: what is being asked, and how to answer it. */
export function useConfirmState() {
  return {
    pending,
    answer(yes: boolean) {
      const current = pending.value;
      pending.value = null;
      current?.answer(yes);
    },
  };
}
