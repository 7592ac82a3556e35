/** Function words that carry no topic: left out of the full-text index and the offline embedding. */
export const ENGLISH_STOPWORDS = new Set(
  `a about above after again against all am an and any are as at be because been before being below between both but by
  can could did do does doing down during each few for from further had has have having he her here hers herself him himself
  his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours
  ourselves out over own same she should so some such than that the their theirs them themselves then there these they this
  those through to too under until up very was we were what when where which while who whom why will with would you your
  yours yourself yourselves also may might must shall s t don doesn didn isn wasn aren weren won wouldn shouldn couldn`
    .split(/\s+/)
    .filter(Boolean),
);

/** Single Han characters that are grammar rather than content (particles, copulas, measure words). */
export const CHINESE_STOP_CHARS = new Set([
  ...'的了是在和与及或也就都而且之其这那个些着过吗呢吧啊么为于以被把将对从到由向有一不所哪什怎如何誰谁嗎麼這個那們们與為於對從',
]);

/** Question and function words: in almost every question, telling nothing about which passage answers it. */
export const CHINESE_STOPWORDS = new Set(
  `什么 哪些 哪个 哪里 哪一 哪位 哪年 多少 怎么 怎样 如何 为什么 为何 是否 是什 么时 时候 什麼 哪裡 為什 為何 怎麼 甚麼 是什麼 什么时候 的是 是哪 是在 了什 有什 一个 一個 这个 這個 那个 那個 我们 我們 他们 他們 以及 因为 因為 所以 但是 而且 可以 没有 沒有 已经 已經`
    .split(/\s+/)
    .filter(Boolean),
);
