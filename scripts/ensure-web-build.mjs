// `npm start` serves web/dist: build it when it is missing or older than any web source file,
// so a fresh clone needs only `npm install && npm start`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('../web/', import.meta.url));
const index = path.join(web, 'dist', 'index.html');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

if (!existsSync(index) || statSync(index).mtimeMs < newestSource(web)) {
  const { build } = await import('vite');
  process.stdout.write('Building the web app (first start or changed sources)…\n');
  await build({ configFile: path.join(web, 'vite.config.ts'), logLevel: 'warn' });
}
