import { onBeforeUnmount, ref } from 'vue';
import { useConversationsStore } from '../stores/conversations';
import { useRealtimeStore } from '../stores/realtime';

const STORAGE_KEY = 'enclave.queueAlerts';

function beep() {
  try {
    const Ctx =
      window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!Ctx) return;
    const ctx = new Ctx();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.4);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
    osc.onended = () => void ctx.close();
  } catch {
    // no audio: the visual queue still updates
  }
}

/** Opt-in sound and desktop notification when a conversation joins the human queue. */
export function useQueueAlerts(message: (title: string) => string) {
  const enabled = ref(localStorage.getItem(STORAGE_KEY) === 'on');
  const permission = ref<NotificationPermission | 'unsupported'>(
    typeof Notification === 'undefined' ? 'unsupported' : Notification.permission,
  );
  const conversations = useConversationsStore();

  async function setEnabled(on: boolean) {
    enabled.value = on;
    localStorage.setItem(STORAGE_KEY, on ? 'on' : 'off');
    if (on && typeof Notification !== 'undefined' && Notification.permission === 'default') {
      permission.value = await Notification.requestPermission();
    }
  }

  const seen = new Set(conversations.queue.map((c) => c.id));
  const off = useRealtimeStore().onFrame((frame) => {
    if (!enabled.value || frame.type !== 'conversation.updated') return;
    const c = frame.conversation;
    // A frame for a conversation that just entered the queue: it was not queued before this frame.
    if (c.status !== 'queued' || c.queuePosition === undefined) return;
    if (seen.has(c.id)) return;
    seen.add(c.id);
    beep();
    if (
      typeof Notification !== 'undefined' &&
      Notification.permission === 'granted' &&
      document.visibilityState !== 'visible'
    ) {
      new Notification('Enclave', { body: message(c.title ?? ''), tag: `queue-${c.id}` });
    }
  });
  onBeforeUnmount(off);

  return { enabled, permission, setEnabled };
}
