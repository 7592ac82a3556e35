import { describe, expect, it } from 'vitest';
import { isLocalEndpoint, redactsFor } from '../../server/src/core/llm/redaction-policy.ts';
import { createRedactor, createStreamRestorer, luhn, validResidentId } from '../../server/src/core/llm/redaction.ts';

const ID = '11010519491231002X';
const CARD = '6222021234567894';

describe('personal data detectors', () => {
  it.each([
    [ID, true],
    ['11010519491231002x', true],
    ['110105194912310021', false], // wrong check character
    ['110105194913310028', false], // month 13
    ['01010519491231002X', false], // no region starts with 0
  ])('resident ID %s is valid: %s', (id, valid) => expect(validResidentId(id)).toBe(valid));

  it.each([
    ['4111111111111111', true],
    [CARD, true],
    ['6222021234567890', false],
    ['79927398713', true],
    ['79927398710', false],
  ])('Luhn %s: %s', (digits, valid) => expect(luhn(digits)).toBe(valid));

  const redactor = createRedactor([{ name: 'EMPLOYEE_ID', source: String.raw`\bE\d{6}\b` }]);
  const kindOf = (text: string) => Object.keys(redactor.redact([text]).counts);

  it.each([
    [`身份证${ID}号`, ['ID_CARD']],
    ['身份证110105194912310021号', []], // a bad checksum and not a card either: left alone
    [`卡号${CARD}。`, ['BANK_CARD']],
    ['card 6222 0212 3456 7894 please', ['BANK_CARD']],
    ['card 6222021234567890 please', []], // fails Luhn
    ['手机13812345678', ['PHONE']],
    ['mobile 138-1234-5678', ['PHONE']],
    ['mobile 138 1234 5678', ['PHONE']],
    ['+86 138 1234 5678', ['PHONE']],
    ['+8613812345678', ['PHONE']],
    ['座机010-12345678', ['PHONE']],
    ['电话(0755) 8765 4321', ['PHONE']],
    ['London +44 20 7946 0958', ['PHONE']],
    ['call +1 (415) 555-2671', ['PHONE']],
    ['mail zhang.san+hr@example.com.cn now', ['EMAIL']],
    ['staff number E123456', ['EMPLOYEE_ID']],
    ['12345678901', []], // 11 digits but not a mobile prefix
    ['order 2024010112 on 2024-01-01, 3.1415926, room 1203', []],
    ['ticket A13812345678', []], // part of a code
    // Typed on a Chinese keyboard in full-width form: the same numbers and address.
    ['手机１３８１２３４５６７８', ['PHONE']],
    ['身份证１１０１０５１９４９１２３１００２Ｘ', ['ID_CARD']],
    ['邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ', ['EMAIL']],
  ])('%s → %j', (text, kinds) => expect(kindOf(text)).toEqual(kinds));

  it('restores a full-width value as it was typed', () => {
    const r = redactor.redact(['手机１３８１２３４５６７８，谢谢']);
    expect(r.texts).toEqual(['手机[PHONE_1]，谢谢']);
    expect(r.restore('已记录 [PHONE_1]')).toBe('已记录 １３８１２３４５６７８');
  });

  it('gives one value one placeholder across texts and restores each', () => {
    const r = redactor.redact([
      `我的身份证号${ID}，手机13812345678，邮箱zhang@example.com`,
      '再说一次 13812345678 和 13900001111',
    ]);
    expect(r.texts).toEqual([
      '我的身份证号[ID_CARD_1]，手机[PHONE_1]，邮箱[EMAIL_1]',
      '再说一次 [PHONE_1] 和 [PHONE_2]',
    ]);
    expect(r.counts).toEqual({ ID_CARD: 1, PHONE: 2, EMAIL: 1 });
    expect(r.restore('Call [PHONE_2], write to [EMAIL_1]; [PHONE_9] is unknown.')).toBe(
      'Call 13900001111, write to zhang@example.com; [PHONE_9] is unknown.',
    );
  });

  it('restores placeholders split across streamed pieces', () => {
    const r = redactor.redact([`phone 13812345678, id ${ID}`]);
    const restorer = createStreamRestorer(r.restore);
    const pieces = ['Your phone is [', 'PHO', 'NE_1', '] and your ID [ID_CARD_', '1]. See [1] and [', '2].', ' [ID'];
    const out = pieces.map((p) => restorer.push(p)).join('') + restorer.flush();
    expect(out).toBe(`Your phone is 13812345678 and your ID ${ID}. See [1] and [2]. [ID`);
  });
});

describe('which endpoints are redacted for', () => {
  it.each([
    ['http://127.0.0.1:8000/v1', true],
    ['http://localhost:11434/v1', true],
    ['http://[::1]:8000/v1', true],
    ['http://10.1.2.3/v1', true],
    ['http://172.20.0.5/v1', true],
    ['http://192.168.1.20:8000/v1', true],
    ['http://[fd00::1]/v1', true],
    ['http://[::ffff:10.0.0.1]/v1', true],
    ['http://vllm:8000/v1', true],
    ['http://gpu-box.internal/v1', true],
    ['https://api.openai.com/v1', false],
    ['https://dashscope.aliyuncs.com/compatible-mode/v1', false],
    ['http://8.8.8.8/v1', false],
    ['http://172.32.0.1/v1', false],
  ])('%s is local: %s', (url, local) => expect(isLocalEndpoint(url)).toBe(local));

  it('auto redacts only for remote endpoints; on and off are absolute', () => {
    expect(redactsFor('auto', 'https://api.openai.com/v1')).toBe(true);
    expect(redactsFor('auto', 'http://127.0.0.1:8000/v1')).toBe(false);
    expect(redactsFor('on', 'http://127.0.0.1:8000/v1')).toBe(true);
    expect(redactsFor('off', 'https://api.openai.com/v1')).toBe(false);
  });
});
