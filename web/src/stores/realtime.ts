import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { createConnection, socketUrl, type Connection, type ConnectionStatus } from '../realtime/connection';
import type { ClientFrame, ServerFrame } from '../realtime/frames';
import { useAuthStore } from './auth';

export type FrameListener = (frame: ServerFrame) => void;

/** What the app tells the link so that a reconnect misses nothing (see realtime/dispatch.ts). */
export interface ResumeHooks {
  /** The newest message id the app has: `resume` continues after it. */
  resumeAfter(): number;
  /** The newest change number (updatedSeq) the app has: `resume` sends what changed after it. */
  resumeSince(): number;
  /** After the replay: refetch what frames cannot carry. */
  catchUp(): Promise<void>;
}

/**
 * The realtime link: connection state for the banner, `resume` after a reconnect so nothing is
 * missed, then a catch-up refetch; frames go to whoever subscribed with `onFrame`.
 */
export const useRealtimeStore = defineStore('realtime', () => {
  const status = ref<ConnectionStatus>('idle');
  /** True from a reconnect until its replay (resume.done) and catch-up have finished. */
  const catchingUp = ref(false);
  const everConnected = ref(false);
  let connection: Connection | undefined;
  let resuming = false;
  const listeners = new Set<FrameListener>();
  let hooks: ResumeHooks = { resumeAfter: () => 0, resumeSince: () => 0, catchUp: async () => {} };

  /** Every frame the server sends, in order of subscription; returns the unsubscribe. */
  function onFrame(listener: FrameListener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  function syncWith(resumeHooks: ResumeHooks) {
    hooks = resumeHooks;
  }

  /**
   * Nothing missed is waiting to be replayed: not connected yet (a first connection replays
   * nothing), or open and caught up. Between a drop and the end of its replay, it is false.
   */
  const inStep = computed(() => !everConnected.value || (status.value === 'open' && !catchingUp.value));

  const banner = computed<'reconnecting' | 'catching-up' | null>(() => {
    if (status.value === 'reconnecting' || (status.value === 'connecting' && everConnected.value))
      return 'reconnecting';
    if (catchingUp.value) return 'catching-up';
    return null;
  });

  function finishCatchUp() {
    hooks.catchUp().finally(() => {
      catchingUp.value = false;
    });
  }

  function handle(frame: ServerFrame) {
    for (const listener of listeners) listener(frame);
    if (frame.type === 'resume.done' && resuming) {
      resuming = false;
      finishCatchUp();
    }
  }

  function onOpen(reconnected: boolean) {
    everConnected.value = true;
    // Read at once, before any frame of the new socket can move them.
    const after = hooks.resumeAfter();
    const since = Math.max(after, hooks.resumeSince());
    if (!reconnected) {
      // A fresh page loads its state over HTTP: nothing to resume, so the server need not hold live frames.
      connection?.send({ type: 'live' });
      return;
    }
    catchingUp.value = true;
    if (after > 0 && connection?.send({ type: 'resume', after, since })) {
      resuming = true;
    } else {
      connection?.send({ type: 'live' });
      finishCatchUp();
    }
  }

  function connect(createSocket?: (url: string) => WebSocket) {
    if (connection) return;
    connection = createConnection({
      url: socketUrl(),
      onFrame: handle,
      onStatus: (s) => (status.value = s),
      onOpen,
      onSessionEnded: () => useAuthStore().forget(),
      ...(createSocket ? { createSocket } : {}),
    });
    connection.start();
  }

  function disconnect() {
    connection?.stop();
    connection = undefined;
    everConnected.value = false;
    catchingUp.value = false;
    status.value = 'idle';
  }

  function send(frame: ClientFrame): boolean {
    return connection?.send(frame) ?? false;
  }

  /** Simulates a dropped link (used by tests and the banner's "retry now"). */
  function drop() {
    connection?.drop();
  }

  return { status, banner, catchingUp, inStep, onFrame, syncWith, connect, disconnect, send, drop, handle };
});
