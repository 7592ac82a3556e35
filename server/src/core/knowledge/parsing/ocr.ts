import { spawn } from 'node:child_process';
import { UnparseableError } from './parsed-document.ts';

/** How scanned pages are read: Debian's `tesseract-ocr` run as a child process. */
export interface OcrSettings {
  /** The tesseract binary (TESSERACT_PATH; a name is looked up on PATH). */
  tesseractPath: string;
  /** Tesseract language codes in the order tried (OCR_LANGUAGES, e.g. chi_sim+chi_tra+eng). */
  languages: string[];
  /** One page's recognition past this is stopped (and the document fails). */
  pageTimeoutMs: number;
}

export const OCR_INSTALL_HINT =
  'install it on the server (Debian/Ubuntu: apt-get install tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-eng) or set TESSERACT_PATH';

/** A page's recognised text is far below this; more is a runaway process, not a page. */
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** Thrown when a page needs OCR and tesseract cannot run: the document fails with the fix. */
export class OcrUnavailableError extends UnparseableError {
  constructor(detail: string) {
    super(`This PDF has scanned pages (images without text) and OCR is not installed (${detail}): ${OCR_INSTALL_HINT}`);
  }
}

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs tesseract with `stdin` piped in, killed past the timeout or the output cap. */
function run(settings: OcrSettings, args: string[], stdin?: Buffer): Promise<Run> {
  return new Promise((resolve, reject) => {
    // One thread per page: the machine's cores belong to the server, and pages are read one by one.
    const child = spawn(settings.tesseractPath, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OMP_THREAD_LIMIT: '1' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let failure: Error | undefined;
    const stop = (error: Error) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => stop(new UnparseableError(`OCR of a page took longer than ${Math.round(settings.pageTimeoutMs / 1000)} s`)),
      settings.pageTimeoutMs,
    );
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) stop(new UnparseableError('OCR produced more output than a page can hold'));
      else into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === 'ENOENT' || error.code === 'EACCES'
          ? new OcrUnavailableError(`${settings.tesseractPath} was not found`)
          : error,
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code });
    });
    // A process that dies early closes stdin under us: its exit code tells the story, not EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

/** The installed language data, as `tesseract --list-langs` prints it. */
export async function installedLanguages(settings: OcrSettings): Promise<string[]> {
  const listed = await run(settings, ['--list-langs']);
  if (listed.code !== 0) throw new OcrUnavailableError(`${settings.tesseractPath} --list-langs failed`);
  return `${listed.stdout}\n${listed.stderr}`
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => /^[a-z_]+$/i.test(l) && l !== 'osd');
}

/**
 * A reader of page images: checks once (per parser thread) which of the configured languages are
 * installed, then recognises PNG images one at a time.
 */
export function createOcr(settings: OcrSettings) {
  let languages: Promise<string> | undefined;

  async function usableLanguages(): Promise<string> {
    const installed = await installedLanguages(settings);
    const usable = settings.languages.filter((l) => installed.includes(l));
    if (!usable.length)
      throw new OcrUnavailableError(
        `none of the languages ${settings.languages.join('+')} is installed; installed: ${installed.join(', ') || 'none'}`,
      );
    return usable.join('+');
  }

  return {
    async recognise(png: Buffer): Promise<string> {
      languages ??= usableLanguages();
      // A failed check is not remembered: the administrator may install tesseract without a restart.
      const lang = await languages.catch((error: unknown) => {
        languages = undefined;
        throw error;
      });
      // --psm 3: automatic page segmentation (columns, blocks), as a scanned page needs.
      const result = await run(settings, ['stdin', 'stdout', '-l', lang, '--psm', '3'], png);
      if (result.code !== 0)
        throw new UnparseableError(
          `OCR failed: ${result.stderr.trim().split('\n').pop() || `exit code ${result.code}`}`,
        );
      return tidyOcrText(result.stdout);
    },
  };
}

export type Ocr = ReturnType<typeof createOcr>;

/**
 * Tesseract puts a space between Chinese characters it read separately ("停 车 场"); Chinese is
 * written without them, and the index and the reader both expect it that way.
 */
function tidyOcrText(text: string): string {
  const han = '\\p{Script=Han}\\u3000-\\u303f\\uff00-\\uffef';
  return text
    .replace(new RegExp(`(?<=[${han}]) +(?=[${han}])`, 'gu'), '')
    .replace(/\f/g, '')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
