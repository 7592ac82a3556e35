import { computed, ref, type App } from 'vue';
import { en, type MessageKey } from './en';
import { zhCN } from './zh-CN';

/**
 * A small typed i18n: flat dictionaries whose keys are checked at compile time (the Chinese one
 * must have every English key), `{name}` placeholders, and the choice kept in localStorage.
 */
export type Locale = 'en' | 'zh-CN';
export type { MessageKey };
export type Params = Record<string, string | number>;

export const LOCALES: { code: Locale; label: string }[] = [
  { code: 'zh-CN', label: '简体中文' },
  { code: 'en', label: 'English' },
];

export const dictionaries: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zhCN };

const STORAGE_KEY = 'enclave.locale';

export function detectLocale(): Locale {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'zh-CN') return saved;
  } catch {
    // storage blocked: fall through to the browser's language
  }
  const languages =
    typeof navigator === 'undefined' ? [] : navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const lang of languages) {
    if (/^zh\b/i.test(lang ?? '')) return 'zh-CN';
    if (/^en\b/i.test(lang ?? '')) return 'en';
  }
  return 'en';
}

const locale = ref<Locale>(detectLocale());

/** Fills `{name}` placeholders; a number is written as the current language writes it (12,345). */
export function format(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (match, name: string) => {
    if (!(name in params)) return match;
    const value = params[name]!;
    return typeof value === 'number' ? formatNumber(value) : value;
  });
}

export function translate(key: MessageKey, params?: Params): string {
  return format(dictionaries[locale.value][key] ?? dictionaries.en[key] ?? key, params);
}

export function setLocale(next: Locale) {
  locale.value = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not persisted; still switched for this page
  }
  applyDocumentLanguage();
}

function applyDocumentLanguage() {
  if (typeof document !== 'undefined') {
    document.documentElement.lang = locale.value;
    document.title = translate('app.title');
  }
}

/** Dates and times in the current language. */
export function formatDateTime(iso: string | null | undefined, style: 'time' | 'datetime' = 'datetime'): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const options: Intl.DateTimeFormatOptions =
    style === 'time' ? { hour: '2-digit', minute: '2-digit' } : { dateStyle: 'medium', timeStyle: 'short' };
  return new Intl.DateTimeFormat(locale.value, options).format(date);
}

/** A count or a score as the current language writes it (12,345 · 0.873). */
export function formatNumber(n: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(locale.value, options).format(n);
}

const BYTE_UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;

/** A file size: "840B", "1.2MB" ("1.2 MB" in Chinese). */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return formatNumber(value, {
    style: 'unit',
    unit: BYTE_UNITS[unit],
    unitDisplay: 'narrow',
    maximumFractionDigits: unit ? 1 : 0,
  });
}

/** "3 min", "1 h 5 min", "45 s" in the current language. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return translate('time.seconds', { n: s });
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return translate('time.minutes', { n: minutes });
  return translate('time.hoursMinutes', { h: Math.floor(minutes / 60), m: minutes % 60 });
}

export function useI18n() {
  return {
    t: translate,
    locale: computed(() => locale.value),
    setLocale,
    formatDateTime,
    formatDuration,
    formatNumber,
    formatBytes,
  };
}

export const i18nPlugin = {
  install(app: App) {
    applyDocumentLanguage();
    app.config.globalProperties.$t = translate;
  },
};

declare module 'vue' {
  interface ComponentCustomProperties {
    $t: typeof translate;
  }
}
