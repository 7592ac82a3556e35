import { execFile } from 'node:child_process';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const lockDir = path.join(root, 'web', '.build-lock');

/**
 * Builds web/dist when it is missing or older than the sources (`npm run build` in CI has
 * already made it). A lock directory keeps two e2e files from building at the same time.
 */
export async function ensureWebBuild(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch {
      const age = await stat(lockDir).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 120_000) await rm(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for another web build');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    await promisify(execFile)(process.execPath, [path.join(root, 'scripts', 'ensure-web-build.mjs')], {
      cwd: root,
      timeout: 120_000,
    });
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
