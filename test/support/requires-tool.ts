import { spawnSync } from 'node:child_process';

/** Whether `command args…` runs and exits 0. */
export function installed(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore', timeout: 30_000 });
  return !r.error && r.status === 0;
}

export interface Requirement {
  /** What is needed, and how to get it, as the skip or failure message names it. */
  what: string;
  present: boolean;
}

/** A command that must run (`command args…` exits 0). */
export function tool(command: string, args: string[], what = command): Requirement {
  return { what, present: installed(command, args) };
}

/**
 * Called first in a test that needs something the README does not ask a newcomer to install
 * (docker-compose, nginx, unshare…). Where it is missing the test is skipped, its reason printed —
 * except under CI=true, where it fails: .ci/run installs these, so CI still proves what the test
 * checks. `inCi: 'optional'` is for a tool CI has no package for either: it only runs where present.
 */
export function requires(
  ctx: { skip(note: string): void; task: { name: string } },
  requirements: Requirement[],
  { inCi = 'required' }: { inCi?: 'required' | 'optional' } = {},
): void {
  const missing = requirements.filter((r) => !r.present).map((r) => r.what);
  if (missing.length === 0) return;
  const reason = `needs ${missing.join(', ')}`;
  if (process.env.CI === 'true' && inCi === 'required') {
    throw new Error(`${reason}: required under CI=true (.ci/run installs it)`);
  }
  console.warn(`skipped "${ctx.task.name}": ${reason}`);
  ctx.skip(reason);
}
