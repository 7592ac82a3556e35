import { afterEach, describe, expect, it, vi } from 'vitest';
import { requires, tool } from '../support/requires-tool.ts';

/* A test needing a tool the README does not ask for is skipped where the tool is missing, with its
   reason, and fails instead under CI=true, where .ci/run installs the tool. */

const missing = tool('enclave-no-such-tool', ['--version'], 'enclave-no-such-tool (apt-get install it)');

const fakeContext = () => ({ task: { name: 'a test' }, skip: vi.fn() });

describe('requires (a test that needs an external tool)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('lets the test run where the tool is there', () => {
    vi.stubEnv('CI', 'true');
    const ctx = fakeContext();
    requires(ctx, [tool(process.execPath, ['--version'])]);
    expect(ctx.skip).not.toHaveBeenCalled();
  });

  it('outside CI skips the test where the tool is missing, printing why', () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const ctx = fakeContext();
    requires(ctx, [missing]);
    expect(ctx.skip).toHaveBeenCalledWith('needs enclave-no-such-tool (apt-get install it)');
    expect(warn).toHaveBeenCalledWith('skipped "a test": needs enclave-no-such-tool (apt-get install it)');
  });

  it('under CI=true fails the test where the tool is missing, unless CI has no package for it either', () => {
    vi.stubEnv('CI', 'true');
    const ctx = fakeContext();
    expect(() => requires(ctx, [missing])).toThrow(/needs enclave-no-such-tool .*required under CI=true/);
    expect(ctx.skip).not.toHaveBeenCalled();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    requires(ctx, [missing], { inCi: 'optional' });
    expect(ctx.skip).toHaveBeenCalledOnce();
  });
});
