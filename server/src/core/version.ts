import { readFileSync } from 'node:fs';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    // An image may ship the code without package.json; the version is a label, never worth failing over.
    return 'unknown';
  }
}

/** This build's version (package.json), read once. */
export const ENCLAVE_VERSION = packageVersion();
