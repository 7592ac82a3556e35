import { createRequire } from 'node:module';
import path from 'node:path';
import type { PDFDocumentProxy, PDFPageProxy } from 'pdfjs-dist';
import { OcrUnavailableError, type Ocr } from './ocr.ts';
import { UnparseableError, type ParsedDocument, type ParsedSection } from './parsed-document.ts';
import { pageText, type PlacedText } from './pdf-layout.ts';

/** Past this a PDF is refused rather than read for minutes (the pool's time limit bounds the rest). */
const MAX_PDF_PAGES = 2_000;

/**
 * A scanned page is drawn at the resolution it was scanned at (its largest image's pixels across
 * the page): scaling a scan up blurs it, and tesseract then misreads more (simplified Chinese as
 * traditional, among others). Within 150–300 dpi and this many pixels.
 */
const OCR_DPI = { min: 150, max: 300 };
const OCR_MAX_PIXELS = 20_000_000;

const require = createRequire(import.meta.url);
const pdfjsRoot = path.dirname(require.resolve('pdfjs-dist/package.json'));

export interface PdfOptions {
  /** Reads pages that have no text layer; without it such pages fail the document with the fix. */
  ocr?: Ocr;
  /** Told after each page read by OCR (the parser pool's time limit counts from the last one). */
  onOcrPage?: () => void;
}

export async function parsePdf(buffer: Buffer, options: PdfOptions = {}): Promise<ParsedDocument> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  let doc: PDFDocumentProxy;
  try {
    doc = await pdfjs.getDocument({
      data: new Uint8Array(buffer),
      standardFontDataUrl: `${path.join(pdfjsRoot, 'standard_fonts')}/`,
      cMapUrl: `${path.join(pdfjsRoot, 'cmaps')}/`,
      cMapPacked: true,
      isEvalSupported: false,
      useSystemFonts: false,
      verbosity: 0,
    }).promise;
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'PasswordException') throw new UnparseableError('The PDF is password-protected');
    throw new UnparseableError(`The PDF could not be read: ${(error as Error).message}`);
  }
  const imageOps = new Set([
    pdfjs.OPS.paintImageXObject,
    pdfjs.OPS.paintInlineImageXObject,
    pdfjs.OPS.paintImageMaskXObject,
    pdfjs.OPS.paintImageXObjectRepeat,
    pdfjs.OPS.paintInlineImageXObjectGroup,
  ]);
  try {
    if (doc.numPages > MAX_PDF_PAGES)
      throw new UnparseableError(
        `The PDF has ${doc.numPages.toLocaleString('en')} pages; at most ${MAX_PDF_PAGES.toLocaleString('en')} are read`,
      );
    const sections: ParsedSection[] = [];
    let unread: OcrUnavailableError | undefined;
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      try {
        const content = await page.getTextContent();
        let text = pageText(
          content.items.flatMap((item): PlacedText[] =>
            'str' in item
              ? [
                  {
                    str: item.str,
                    x: item.transform[4] as number,
                    y: item.transform[5] as number,
                    width: item.width,
                    size: Math.hypot(item.transform[2] as number, item.transform[3] as number) || item.height,
                    hasEOL: item.hasEOL,
                  },
                ]
              : [],
          ),
        );
        const imageWidth = text.trim() ? 0 : await widestImage(page, imageOps);
        if (imageWidth > 0) {
          if (!options.ocr) unread ??= new OcrUnavailableError('OCR is turned off');
          else {
            try {
              text = await options.ocr.recognise(await renderPng(doc, page, imageWidth));
              options.onOcrPage?.();
            } catch (error) {
              if (!(error instanceof OcrUnavailableError)) throw error;
              unread ??= error;
            }
          }
        }
        sections.push({ text, page: n });
      } finally {
        page.cleanup();
      }
    }
    // Pages with text are indexed even so; a document of scans alone would index nothing.
    if (unread && sections.every((s) => !s.text.trim())) throw unread;
    return { sections, pageCount: doc.numPages };
  } finally {
    await doc.destroy();
  }
}

/** The width in pixels of the page's widest image (0: none; an inline image counts as 1). */
async function widestImage(page: PDFPageProxy, imageOps: Set<number>): Promise<number> {
  const ops = await page.getOperatorList();
  let widest = 0;
  ops.fnArray.forEach((fn, i) => {
    if (!imageOps.has(fn)) return;
    // paintImageXObject's arguments are [id, width, height].
    const width = (ops.argsArray[i] as unknown[] | undefined)?.[1];
    widest = Math.max(widest, typeof width === 'number' ? width : 1);
  });
  return widest;
}

/** The page as a PNG through pdf.js's own canvas (@napi-rs/canvas in Node), at the scan's resolution. */
async function renderPng(doc: PDFDocumentProxy, page: PDFPageProxy, imageWidth: number): Promise<Buffer> {
  const base = page.getViewport({ scale: 1 });
  const dpi = Math.min(OCR_DPI.max, Math.max(OCR_DPI.min, (imageWidth / base.width) * 72));
  const scale = Math.min(dpi / 72, Math.sqrt(OCR_MAX_PIXELS / (base.width * base.height)));
  const viewport = page.getViewport({ scale });
  const factory = (
    doc as unknown as {
      canvasFactory: {
        create(w: number, h: number): { canvas: { toBuffer(type: 'image/png'): Buffer }; context: unknown };
        destroy(entry: unknown): void;
      };
    }
  ).canvasFactory;
  let entry: ReturnType<typeof factory.create>;
  try {
    entry = factory.create(Math.ceil(viewport.width), Math.ceil(viewport.height));
  } catch (error) {
    throw new UnparseableError(
      `This PDF has scanned pages and they cannot be drawn for OCR here (${(error as Error).message}); reinstall Enclave's npm dependencies (npm ci)`,
    );
  }
  try {
    await page.render({
      canvas: entry.canvas,
      canvasContext: entry.context,
      viewport,
      background: 'white',
    } as unknown as Parameters<PDFPageProxy['render']>[0]).promise;
    return entry.canvas.toBuffer('image/png');
  } finally {
    factory.destroy(entry);
  }
}
