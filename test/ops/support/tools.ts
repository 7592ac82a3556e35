import { spawnSync } from 'node:child_process';

/** Runs a command to completion; never throws (a missing binary gives status null and an error). */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000, ...options });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
}

/** Whether `command args…` runs and exits 0 (used to find optional tools such as the compose plugin). */
export function available(command: string, args: string[]): boolean {
  const r = run(command, args);
  return !r.error && r.status === 0;
}
