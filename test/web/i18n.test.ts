// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { en } from '../../web/src/i18n/en';
import { zhCN } from '../../web/src/i18n/zh-CN';
import { detectLocale, dictionaries, format, setLocale, translate } from '../../web/src/i18n';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('i18n dictionaries', () => {
  it('has every key in both languages, and no extra ones', () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
    expect(Object.keys(dictionaries['zh-CN']).length).toBeGreaterThan(200);
  });

  it('has no empty translations', () => {
    for (const dict of [en, zhCN] as Record<string, string>[]) {
      for (const [key, value] of Object.entries(dict)) expect(value.trim(), key).not.toBe('');
    }
  });

  it('uses the same placeholders in both languages', () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(zhCN[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it('really is Chinese: nearly every Chinese string contains CJK characters', () => {
    const values = Object.values(zhCN);
    const cjk = values.filter((v) => /[\u4e00-\u9fff]/.test(v));
    // Only product names, symbols (the list separator 、 is CJK punctuation) and pure placeholders may stay untranslated.
    const untranslated = Object.entries(zhCN)
      .filter(([, v]) => !/[\u4e00-\u9fff]/.test(v))
      .map(([k]) => k);
    expect(untranslated).toEqual(['app.title', 'admin.listSeparator']);
    expect(cjk.length).toBe(values.length - 2);
  });
});

describe('i18n runtime', () => {
  it('formats placeholders and keeps unknown ones', () => {
    expect(format('{a} and {b}', { a: 1 })).toBe('1 and {b}');
  });

  it('switches language and remembers the choice', () => {
    setLocale('zh-CN');
    expect(translate('nav.signOut')).toBe('退出登录');
    expect(document.documentElement.lang).toBe('zh-CN');
    expect(localStorage.getItem('enclave.locale')).toBe('zh-CN');
    expect(detectLocale()).toBe('zh-CN');
    setLocale('en');
    expect(translate('nav.signOut')).toBe('Sign out');
    expect(translate('chat.queuePosition', { n: 3 })).toBe('You are number 3 in the queue.');
  });

  it('defaults to the browser language when nothing is saved', () => {
    localStorage.removeItem('enclave.locale');
    const original = Object.getOwnPropertyDescriptor(window.navigator, 'languages');
    Object.defineProperty(window.navigator, 'languages', { value: ['zh-CN', 'en'], configurable: true });
    expect(detectLocale()).toBe('zh-CN');
    Object.defineProperty(window.navigator, 'languages', { value: ['de-DE', 'en-US'], configurable: true });
    expect(detectLocale()).toBe('en');
    if (original) Object.defineProperty(window.navigator, 'languages', original);
  });
});
