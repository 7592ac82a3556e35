import { describe, expect, it } from 'vitest';
import { attachmentRules } from '../../server/src/core/conversations/attachment-type.ts';
import { acceptList, attachmentProblem, formatFileSize } from '../../web/src/utils/attachments';

const rules = attachmentRules(1024 * 1024);
const file = (name: string, type: string, size: number) => ({ name, type, size }) as unknown as File;

describe("the composer's check of a file before uploading it", () => {
  it('refuses what the server would refuse, by the rules the server sends', () => {
    expect(attachmentProblem(file('scan.pdf', 'application/pdf', 2 * 1024 * 1024), rules)).toBe('tooLarge');
    expect(attachmentProblem(file('setup.exe', 'application/x-msdownload', 10), rules)).toBe('type');
    expect(attachmentProblem(file('empty.txt', 'text/plain', 0), rules)).toBe('empty');
    // a type the browser does not know (Word files on some systems) passes by its name
    expect(attachmentProblem(file('Budget.DOCX', '', 5000), rules)).toBeNull();
    expect(attachmentProblem(file('image.png', 'image/png', 5000), rules)).toBeNull();
    // rules not known yet: the server decides
    expect(attachmentProblem(file('setup.exe', '', 10), null)).toBeNull();
    expect(acceptList(rules)).toContain('image/png');
    expect(acceptList(rules)).toContain('.docx');
  });

  it('writes sizes for people, in their language', () => {
    expect(formatFileSize(820, 'en')).toBe('820 B');
    expect(formatFileSize(120_009, 'en')).toBe('117 kB');
    expect(formatFileSize(1.5 * 1024 * 1024, 'zh-CN')).toBe('1.5 MB');
  });
});
