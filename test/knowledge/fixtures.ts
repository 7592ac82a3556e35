import { constants, crc32 as zlibCrc32, deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * Small, valid files of every supported format, generated in code so the tests show exactly what
 * is inside them.
 */

// ---------------------------------------------------------------------------------------------
// PDF: one page per entry. Text is drawn with a Type0 font (Identity-H) whose codes are the UTF-16
// code units and a ToUnicode map, so any script (Chinese included) extracts exactly.

export function makePdf(pages: (string | string[])[][]): Buffer {
  const objects: string[] = [];
  const add = (body: string) => {
    objects.push(body);
    return objects.length;
  };
  const catalog = add('');
  const pagesObj = add('');
  const toUnicode =
    '/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def ' +
    '/CMapName /Adobe-Identity-UCS def /CMapType 2 def 1 begincodespacerange <0000> <FFFF> endcodespacerange ' +
    // bfranges may not cross a high-byte boundary: one range per high byte (100 entries per block).
    Array.from({ length: 3 }, (_, block) => {
      const highs = Array.from({ length: block === 2 ? 56 : 100 }, (_, i) => block * 100 + i);
      const hex = (n: number) => n.toString(16).padStart(2, '0').toUpperCase();
      return `${highs.length} beginbfrange ${highs.map((h) => `<${hex(h)}00> <${hex(h)}FF> <${hex(h)}00>`).join(' ')} endbfrange`;
    }).join(' ') +
    ' endcmap CMapName currentdict /CMap defineresource pop end end';
  const cmap = add(`<< /Length ${toUnicode.length} >>\nstream\n${toUnicode}\nendstream`);
  const descriptor = add(
    '<< /Type /FontDescriptor /FontName /EnclaveTest /Flags 4 /FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>',
  );
  const descendant = add(
    `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /EnclaveTest /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor ${descriptor} 0 R /DW 500 /CIDToGIDMap /Identity >>`,
  );
  const font = add(
    `<< /Type /Font /Subtype /Type0 /BaseFont /EnclaveTest /Encoding /Identity-H /DescendantFonts [${descendant} 0 R] /ToUnicode ${cmap} 0 R >>`,
  );
  const kids: number[] = [];
  for (const lines of pages) {
    // A line given as cells is a table row: its cells start at columns 160 points apart.
    const ops = lines
      .flatMap((line, i) =>
        (typeof line === 'string' ? [line] : line).map((cell, c) => {
          const hex = [...cell].map((ch) => ch.charCodeAt(0).toString(16).padStart(4, '0')).join('');
          return `BT /F1 12 Tf ${50 + c * 160} ${780 - i * 20} Td <${hex}> Tj ET`;
        }),
      )
      .join('\n');
    const content = add(`<< /Length ${Buffer.byteLength(ops)} >>\nstream\n${ops}\nendstream`);
    kids.push(
      add(
        `<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 612 842] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`,
      ),
    );
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objects[pagesObj - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  return pdfFile(objects, catalog);
}

/**
 * A scanned document: each page is one JPEG image filling an A4 page, with no text layer (what a
 * scanner or a phone's "scan to PDF" writes).
 */
export function makeScannedPdf(pages: { jpeg: Buffer; width: number; height: number }[]): Buffer {
  const parts: (string | Buffer)[][] = [];
  const add = (body: (string | Buffer)[]) => {
    parts.push(body);
    return parts.length;
  };
  const catalog = add([]);
  const pagesObj = add([]);
  const kids = pages.map(({ jpeg, width, height }) => {
    const image = add([
      `<< /Type /XObject /Subtype /Image /Width ${width} /Height ${height} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length ${jpeg.length} >>\nstream\n`,
      jpeg,
      '\nendstream',
    ]);
    const ops = 'q 595 0 0 842 0 0 cm /Im1 Do Q';
    const content = add([`<< /Length ${ops.length} >>\nstream\n${ops}\nendstream`]);
    return add([
      `<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 ${image} 0 R >> >> /Contents ${content} 0 R >>`,
    ]);
  });
  parts[catalog - 1] = [`<< /Type /Catalog /Pages ${pagesObj} 0 R >>`];
  parts[pagesObj - 1] = [`<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`];
  const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n')];
  let length = chunks[0]!.length;
  const offsets: number[] = [];
  parts.forEach((body, i) => {
    offsets.push(length);
    for (const piece of [`${i + 1} 0 obj\n`, ...body, '\nendobj\n']) {
      const bytes = typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece;
      chunks.push(bytes);
      length += bytes.length;
    }
  });
  const trailer = `xref\n0 ${parts.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}trailer\n<< /Size ${parts.length + 1} /Root ${catalog} 0 R >>\nstartxref\n${length}\n%%EOF\n`;
  return Buffer.concat([...chunks, Buffer.from(trailer, 'latin1')]);
}

/**
 * A PDF file of numbered objects (`objects[i]` is object i + 1, ASCII) with its cross-reference
 * table; `root` is the catalog's number.
 */
export function pdfFile(objects: string[], root: number, version = '1.7'): Buffer {
  let out = `%PDF-${version}\n`;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${root} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

// ---------------------------------------------------------------------------------------------
// ZIP (for DOCX): deflated entries, enough for any Office reader.

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function makeZip(entries: Record<string, string>): Buffer {
  return zipOf(
    Object.entries(entries).map(([name, content]) => {
      const raw = Buffer.from(content, 'utf8');
      return { name, data: deflateRawSync(raw), size: raw.length, crc: crc32(raw) };
    }),
  );
}

interface ZipEntry {
  name: string;
  /** Raw deflate data. */
  data: Buffer;
  size: number;
  crc: number;
}

function zipOf(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data, size, crc } of entries) {
    const nameBuf = Buffer.from(name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, data);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + data.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Word document: [style, text] paragraphs ("Heading1" for a heading, "" for body text). */
export function makeDocx(paragraphs: [string, string][]): Buffer {
  const body = paragraphs
    .map(
      ([style, text]) =>
        `<w:p>${style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : ''}<w:r><w:t xml:space="preserve">${xmlEscape(text)}</w:t></w:r></w:p>`,
    )
    .join('');
  return makeZip({
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    '_rels/.rels':
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    'word/document.xml': `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
  });
}

/**
 * A zip bomb: a valid Word document whose document.xml inflates to `inflatedBytes` of real XML
 * (1 GiB in about 4 MB). One 1 MiB block of paragraphs is deflated once with a full flush (no
 * back-references across it), so its compressed bytes can simply be repeated.
 */
export function makeDocxBomb(inflatedBytes: number, options: { declaredBytes?: number } = {}): Buffer {
  const base = makeDocx([['', 'x']]);
  const paragraph = '<w:p><w:r><w:t>All work and no play makes a parser run out of memory.</w:t></w:r></w:p>';
  const block = Buffer.from(paragraph.repeat(Math.floor(1048576 / paragraph.length)), 'utf8');
  const head = Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>',
  );
  const tail = Buffer.from('</w:body></w:document>');
  const flushed = (b: Buffer) => deflateRawSync(b, { finishFlush: constants.Z_FULL_FLUSH });
  const blocks = Math.ceil(inflatedBytes / block.length);
  let crc = zlibCrc32(head);
  for (let i = 0; i < blocks; i++) crc = zlibCrc32(block, crc);
  crc = zlibCrc32(tail, crc);
  const packedBlock = flushed(block);
  const data = Buffer.concat([
    flushed(head),
    ...Array.from({ length: blocks }, () => packedBlock),
    deflateRawSync(tail),
  ]);
  const size = head.length + blocks * block.length + tail.length;
  const others = zipEntriesOf(base).filter((e) => e.name !== 'word/document.xml');
  // A lying directory understates the part (what a bomb made to pass a size check does).
  return zipOf([...others, { name: 'word/document.xml', data, size: options.declaredBytes ?? size, crc }]);
}

/** A Word document holding `count` parts (each tiny): too many entries to open. */
export function makeDocxWithParts(count: number): Buffer {
  const base = zipEntriesOf(makeDocx([['', 'Many parts']]));
  const part = Buffer.from('<x/>');
  const extra = Array.from({ length: count }, (_, i) => ({
    name: `customXml/item${i}.xml`,
    data: deflateRawSync(part),
    size: part.length,
    crc: crc32(part),
  }));
  return zipOf([...base, ...extra]);
}

/** The entries of a zip made by `zipOf` (no data descriptors, no zip64). */
function zipEntriesOf(zip: Buffer): ZipEntry[] {
  const entries: ZipEntry[] = [];
  for (let at = 0; zip.readUInt32LE(at) === 0x04034b50;) {
    const packed = zip.readUInt32LE(at + 18);
    const nameLength = zip.readUInt16LE(at + 26);
    const start = at + 30 + nameLength;
    entries.push({
      name: zip.subarray(at + 30, start).toString('utf8'),
      data: zip.subarray(start, start + packed),
      size: zip.readUInt32LE(at + 22),
      crc: zip.readUInt32LE(at + 14),
    });
    at = start + packed;
  }
  return entries;
}

/** A spreadsheet through exceljs (the library the parser reads it with is a different code path). */
export async function makeXlsx(sheet: string, rows: (string | number)[][]): Promise<Buffer> {
  const ExcelJS = (await import('exceljs')).default;
  const workbook = new ExcelJS.Workbook();
  const ws = workbook.addWorksheet(sheet);
  for (const row of rows) ws.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** A PowerPoint deck: each slide's paragraphs (the first is its title); a string[][] is a table. */
export function makePptx(slides: (string | string[][])[][]): Buffer {
  const ns =
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"';
  const para = (text: string) => `<a:p><a:r><a:rPr lang="en-US"/><a:t>${xmlEscape(text)}</a:t></a:r></a:p>`;
  const shape = (item: string | string[][], i: number) =>
    typeof item === 'string'
      ? `<p:sp><p:nvSpPr><p:cNvPr id="${i + 2}" name="Text ${i}"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/>${para(item)}</p:txBody></p:sp>`
      : `<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="${i + 2}" name="Table ${i}"/><p:cNvGraphicFramePr/><p:nvPr/></p:nvGraphicFramePr><p:xfrm/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/table"><a:tbl>${item
          .map(
            (row) =>
              `<a:tr h="370840">${row.map((c) => `<a:tc><a:txBody><a:bodyPr/>${para(c)}</a:txBody></a:tc>`).join('')}</a:tr>`,
          )
          .join('')}</a:tbl></a:graphicData></a:graphic></p:graphicFrame>`;
  const entries: Record<string, string> = {
    '[Content_Types].xml': `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>${slides.map((_, i) => `<Override PartName="/ppt/slides/slide${i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>`).join('')}</Types>`,
    '_rels/.rels':
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="ppt/presentation.xml"/></Relationships>',
    // Slide order is the presentation's list, here the reverse of the part names' order.
    'ppt/presentation.xml': `<?xml version="1.0" encoding="UTF-8"?><p:presentation ${ns}><p:sldIdLst>${slides.map((_, i) => `<p:sldId id="${256 + i}" r:id="rId${slides.length - i}"/>`).join('')}</p:sldIdLst></p:presentation>`,
    'ppt/_rels/presentation.xml.rels': `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${slides.map((_, i) => `<Relationship Id="rId${slides.length - i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide${slides.length - i}.xml"/>`).join('')}</Relationships>`,
  };
  slides.forEach((items, i) => {
    entries[`ppt/slides/slide${slides.length - i}.xml`] =
      `<?xml version="1.0" encoding="UTF-8"?><p:sld ${ns}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>${items.map(shape).join('')}</p:spTree></p:cSld></p:sld>`;
  });
  return makeZip(entries);
}

/** A Word document whose body is one table (rows of cells, the first the header), after a paragraph. */
export function makeDocxTable(intro: string, rows: string[][]): Buffer {
  const cell = (t: string) => `<w:tc><w:p><w:r><w:t xml:space="preserve">${xmlEscape(t)}</w:t></w:r></w:p></w:tc>`;
  const table = `<w:tbl>${rows.map((r) => `<w:tr>${r.map(cell).join('')}</w:tr>`).join('')}</w:tbl>`;
  const base = makeDocx([['', intro]]);
  const entries = Object.fromEntries(zipEntriesOf(base).map((e) => [e.name, inflateRawSync(e.data).toString('utf8')]));
  entries['word/document.xml'] = entries['word/document.xml']!.replace('</w:body>', `${table}</w:body>`);
  return makeZip(entries);
}

/**
 * A scanned page: `lines` drawn black on white at 150 dpi on A4 (1240×1754 px), as a JPEG — through
 * the canvas pdf.js draws with, and the CJK font .ci/run installs (fonts-noto-cjk).
 */
export async function scannedPage(lines: string[]): Promise<{ jpeg: Buffer; width: number; height: number }> {
  const { createCanvas } = await import('@napi-rs/canvas');
  const width = 1240;
  const height = 1754;
  const canvas = createCanvas(width, height);
  const context = canvas.getContext('2d');
  context.fillStyle = 'white';
  context.fillRect(0, 0, width, height);
  context.fillStyle = 'black';
  context.font = '40px "Noto Sans CJK SC", "Noto Sans CJK JP", sans-serif';
  lines.forEach((line, i) => context.fillText(line, 120, 200 + i * 80));
  return { jpeg: canvas.toBuffer('image/jpeg', 90), width, height };
}
