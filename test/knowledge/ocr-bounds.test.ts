import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOcr } from '../../server/src/core/knowledge/parsing/ocr.ts';
import { parseDocument } from '../../server/src/core/knowledge/parsing/parse.ts';
import { UnparseableError } from '../../server/src/core/knowledge/parsing/parsed-document.ts';
import { makeScannedPdf, scannedPage } from './fixtures.ts';

/*
 * The OCR child process is bounded: one that never ends is killed at the page time limit, one that
 * floods its output is killed at the output cap. Stand-ins for tesseract (shell scripts) misbehave on purpose.
 */
describe('OCR within bounds', () => {
  let dir: string;
  let scan: Buffer;
  const fake = async (name: string, recognise: string) => {
    const file = path.join(dir, name);
    await writeFile(
      file,
      `#!/bin/sh\nif [ "$1" = "--list-langs" ]; then echo 'List of available languages in "/fake/" (2):'; echo chi_sim; echo eng; exit 0; fi\n${recognise}\n`,
    );
    await chmod(file, 0o755);
    return file;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'enclave-ocr-'));
    scan = makeScannedPdf([await scannedPage(['A page that no stand-in reads.'])]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const parseWith = (tesseractPath: string, pageTimeoutMs = 60_000) =>
    parseDocument(scan, 'application/pdf', {
      ocr: createOcr({ tesseractPath, languages: ['chi_sim', 'chi_tra', 'eng'], pageTimeoutMs }),
    });

  it('stops a recognition that never ends at the page time limit', async () => {
    const error = await parseWith(await fake('hangs', 'exec sleep 600'), 1000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnparseableError);
    expect((error as Error).message).toBe('OCR of a page took longer than 1 s');
  }, 60_000);

  it('stops a recognition that floods its output', async () => {
    const error = await parseWith(await fake('floods', 'exec yes "lorem ipsum dolor"')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnparseableError);
    expect((error as Error).message).toBe('OCR produced more output than a page can hold');
  }, 60_000);

  it('reads with the configured languages that are installed, in order', async () => {
    const echo = await fake('echoes', 'echo "languages: $4"');
    const parsed = await parseWith(echo);
    expect(parsed.sections).toEqual([{ text: 'languages: chi_sim+eng', page: 1 }]);
  }, 60_000);
});
