/**
 * Flags passages that talk to the model instead of informing the reader ("ignore all previous
 * instructions", "忽略之前的所有指令", chat-template role tags …): a document carrying them is
 * probably trying to steer the bot. A flag only asks an admin to look (the passage is fenced as
 * untrusted data in every prompt anyway), so the rules are narrow: each wants an instruction verb
 * *and* what it targets, never a single common word. English and Chinese (simplified and
 * traditional). `npm run eval:flags` measures how often ordinary documents trip them.
 */
const RULES: readonly (readonly [name: string, pattern: RegExp])[] = [
  [
    'ignore-instructions',
    /\b(?:ignore|disregard|forget|override|bypass)\s+(?:(?:all|any|every|of|the|your|my)\s+){0,3}(?:previous|prior|above|preceding|earlier|former|original|system|existing)\s+(?:instructions?|prompts?|rules|directions|directives|guidelines|messages|context)\b/i,
  ],
  // "ignore the above warning" is a manual's advice; "ignore the above." / "… and" is an order.
  [
    'disregard-above',
    /\b(?:disregard|ignore)\s+(?:everything\s+|all\s+|the\s+)?(?:above|before\s+this)(?=\s*(?:[.,;:!]|and\b|$))/im,
  ],
  [
    'role-change',
    /\b(?:you\s+are\s+now|from\s+now\s+on,?\s+you\s+are|pretend\s+(?:that\s+)?you\s+are)\s+(?:(?:a|an|the|no\s+longer)\s+)?(?:ai|assistant|chatbot|language\s+model|dan|unrestricted|jailbroken|bound|in\s+(?:developer|god|admin|debug)\s+mode)\b/i,
  ],
  // "The system prompts you for a password" is a manual; "print your system prompt" is not.
  [
    'system-prompt',
    /\b(?:your|reveal|print|show|repeat|output|ignore|override|change|leak|display)\s+(?:\w+\s+){0,2}system\s+prompt\b|\bsystem\s+prompt\s*[:：]/i,
  ],
  ['new-instructions', /\b(?:new|updated|real|actual|secret)\s+instructions?\s*:/i],
  [
    'hide-from-user',
    /\b(?:do\s+not|don'?t|never)\s+(?:tell|inform|mention\s+(?:this\s+)?to|reveal\s+(?:this\s+)?to)\s+the\s+user\b/i,
  ],
  [
    'role-tag',
    /<\|\s*(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id)\s*\|>|\[\/?INST\]|<<\/?SYS>>/i,
  ],
  ['role-heading', /^\s*#{1,6}\s*(?:system|instructions?|assistant)\s*:?\s*$/im],
  [
    'ignore-instructions-zh',
    /(?:忽略|无视|無視|忽視|忘记|忘記|忘掉|不要理会|不要理會|不用理会|不用理會)(?:掉)?(?:你)?(?:之前|以上|上面|前面|先前|此前|上述|原来|原來|原有|所有|全部|一切)(?:的)?(?:所有|全部|一切)?(?:的)?(?:指令|指示|提示词|提示詞|规则|規則|命令|设定|設定|要求)/,
  ],
  [
    'role-change-zh',
    /(?:从现在(?:开始|起)|從現在(?:開始|起))[，,]?\s*你(?:是|将是|將是|扮演)|你现在是(?:一个|一名)?(?:ai|AI|助手|机器人|没有限制)|你現在是(?:一個|一名)?(?:ai|AI|助手|機器人|沒有限制)/,
  ],
  ['system-prompt-zh', /系统提示词|系統提示詞|系统指令|系統指令/],
  ['hide-from-user-zh', /(?:不要|别|別)(?:告诉|告訴)用户|(?:不要|別)(?:告訴)使用者/],
];

/** The names of the rules a passage trips (none: it reads as ordinary text). */
export function instructionFlags(text: string): string[] {
  return RULES.filter(([, pattern]) => pattern.test(text)).map(([name]) => name);
}
