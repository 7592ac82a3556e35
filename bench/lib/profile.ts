import { readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/**
 * The functions with the most self time in a V8 `.cpuprofile`, and self time per area of the code
 * base (server/…, workers/…, node_modules/<package>, node internals) — the "where did it go" view.
 */
export async function summarizeProfile(
  file: string,
  top = 12,
): Promise<{
  functions: { name: string; ms: number; share: number }[];
  areas: { area: string; ms: number; share: number }[];
}> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const fn = new Map<string, number>();
  const area = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const rel = url.replace(/^file:\/\//, '');
    const short = rel.includes('/node_modules/')
      ? rel.slice(rel.lastIndexOf('/node_modules/') + 14)
      : rel.includes('/work/')
        ? path.relative(process.cwd(), rel)
        : rel;
    const name = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
    fn.set(name, (fn.get(name) ?? 0) + us);
    let a: string;
    if (!url) a = functionName.startsWith('(') ? functionName : '(native)';
    else if (rel.includes('/node_modules/'))
      a = `node_modules/${rel
        .slice(rel.lastIndexOf('/node_modules/') + 14)
        .split('/')
        .slice(0, rel.includes('/node_modules/@') ? 2 : 1)
        .join('/')}`;
    else if (url.startsWith('node:')) a = 'node internals';
    else a = short.split('/').slice(0, 3).join('/');
    area.set(a, (area.get(a) ?? 0) + us);
  }
  const list = (m: Map<string, number>) => [...m].sort((x, y) => y[1] - x[1]).slice(0, top);
  return {
    functions: list(fn).map(([name, us]) => ({
      name,
      ms: Math.round(us / 1000),
      share: Math.round((us / total) * 1000) / 10,
    })),
    areas: list(area).map(([a, us]) => ({
      area: a,
      ms: Math.round(us / 1000),
      share: Math.round((us / total) * 1000) / 10,
    })),
  };
}
