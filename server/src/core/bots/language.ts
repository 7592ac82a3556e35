export type Language = 'zh' | 'en';

/** Chinese when the text has Han characters, otherwise English: the two languages Enclave speaks. */
export function detectLanguage(text: string): Language {
  return /[\u3400-\u9fff]/.test(text) ? 'zh' : 'en';
}

export function languageName(language: Language): string {
  return language === 'zh' ? 'Simplified Chinese' : 'English';
}

/** Fixed texts the bot says without a model, in both languages. */
export const BOT_TEXT = {
  noAnswer: {
    en: "I couldn't find anything about this in the knowledge base. Would you like to talk to a person?",
    zh: '知识库中没有找到与此相关的内容。需要为您转接人工客服吗？',
  },
  handedOff: {
    en: "I couldn't find this in the knowledge base, so I've passed your question to our support team. Someone will reply here shortly.",
    zh: '知识库中没有找到相关内容，已为您转接人工客服，请稍候，客服会在这里回复您。',
  },
  /** The user wanted people, not an answer (asked for one, sounded frustrated, complained). */
  passedOn: {
    en: "Sorry about that. I've passed this conversation to our support team; someone will reply here shortly.",
    zh: '抱歉给您带来不便，已为您转接人工客服，请稍候，客服会在这里回复您。',
  },
  failed: {
    en: "Sorry, I can't answer right now because the language model is unavailable. Would you like to talk to a person?",
    zh: '抱歉，语言模型暂时不可用，无法回答。需要为您转接人工客服吗？',
  },
  offlineLabel: {
    en: 'Offline answer: quoted from the knowledge base without a language model.',
    zh: '离线回答：以下内容直接摘自知识库，未使用语言模型。',
  },
} as const;
