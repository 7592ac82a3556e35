import { ref } from 'vue';

/**
 * Files dropped anywhere on an element (a conversation): listeners to bind with `v-on`, and whether
 * files are being dragged over it. Drags of text or links are left to the browser.
 */
export function useFileDrop(onFiles: (files: File[]) => void) {
  const dragging = ref(false);
  // dragenter/dragleave fire for every child crossed: count them to know when the drag left.
  let depth = 0;
  const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;

  const listeners = {
    dragenter(event: DragEvent) {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth += 1;
      dragging.value = true;
    },
    dragover(event: DragEvent) {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer!.dropEffect = 'copy';
    },
    dragleave(event: DragEvent) {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) dragging.value = false;
    },
    drop(event: DragEvent) {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      dragging.value = false;
      onFiles(Array.from(event.dataTransfer?.files ?? []));
    },
  };
  return { dragging, listeners };
}
