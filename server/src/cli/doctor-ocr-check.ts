import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Config } from '../config.ts';
import { installedLanguages, OCR_INSTALL_HINT, OcrUnavailableError } from '../core/knowledge/parsing/ocr.ts';
import { message, withTimeout, type Row } from './doctor-checks.ts';

const APT_PACKAGE: Record<string, string> = {
  chi_sim: 'tesseract-ocr-chi-sim',
  chi_tra: 'tesseract-ocr-chi-tra',
  eng: 'tesseract-ocr-eng',
};

/** Whether pdf.js can draw a page here (its canvas is an optional native package). */
function canvasLoads(): boolean {
  try {
    createRequire(createRequire(import.meta.url).resolve('pdfjs-dist'))('@napi-rs/canvas');
    return true;
  } catch {
    return false;
  }
}

/**
 * OCR of scanned PDFs: tesseract and the configured language data. Missing is a warning, not a
 * failure: everything else works, and scanned PDFs fail with a message saying how to install it.
 */
export async function checkOcr(config: Config): Promise<Row> {
  const settings = config.knowledge.ocr;
  const check = 'OCR (scanned PDFs)';
  let installed: string[];
  try {
    installed = await withTimeout(installedLanguages(settings), 'tesseract');
  } catch (error) {
    return {
      check,
      status: 'warn',
      detail: `${error instanceof OcrUnavailableError ? `${settings.tesseractPath} is not installed` : message(error)}: PDF pages that are scanned images cannot be read, and a PDF of scans alone fails to index`,
      fix: OCR_INSTALL_HINT.replace(/^install/, 'Install'),
    };
  }
  const version = spawnSync(settings.tesseractPath, ['--version'], { encoding: 'utf8', timeout: 5000 })
    .stdout?.split('\n')[0]
    ?.trim();
  if (!canvasLoads())
    return {
      check,
      status: 'warn',
      detail: `${version ?? 'tesseract'} is installed, but pdf.js cannot draw pages (@napi-rs/canvas did not load): scanned pages are not read`,
      fix: 'Run npm ci on this machine (the canvas package is native and per platform)',
    };
  const missing = settings.languages.filter((l) => !installed.includes(l));
  const usable = settings.languages.filter((l) => installed.includes(l));
  if (!usable.length || missing.length)
    return {
      check,
      status: 'warn',
      detail: `${version ?? 'tesseract'}: language data ${missing.join(', ')} not installed (OCR_LANGUAGES=${settings.languages.join('+')})${usable.length ? `; scanned pages are read as ${usable.join('+')} only` : ': scanned pages cannot be read'}`,
      fix: `apt-get install ${missing.map((l) => APT_PACKAGE[l] ?? `tesseract-ocr-${l.replace(/_/g, '-')}`).join(' ')}, or leave them out of OCR_LANGUAGES`,
    };
  return {
    check,
    status: 'ok',
    detail: `${version ?? 'tesseract'} with ${usable.join('+')}: PDF pages that are scanned images are read by OCR`,
  };
}
