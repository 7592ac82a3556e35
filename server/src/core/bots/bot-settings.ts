import { z } from 'zod';

/** A bot's model settings; unset fields fall back to the deployment's configuration. */
export const botModelSchema = z.strictObject({
  baseUrl: z.url().max(500).optional(),
  model: z.string().trim().min(1).max(200).optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().min(16).max(32_000).optional(),
  /** Tokens of earlier conversation turns each answer carries (0: none; unset: CHAT_HISTORY_TOKENS). */
  historyTokens: z.number().int().min(0).max(100_000).optional(),
  /** Personal data replaced by placeholders before the model sees it (unset: REDACT_PII). */
  redactPii: z.enum(['auto', 'on', 'off']).optional(),
});

/** When the bot hands a conversation to people (the rules: conversations/handoff-policy.ts). */
export const botHandoffSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /**
   * Below this answer confidence (0–1: the probability that the best passage answers the question)
   * the bot says the knowledge base has nothing. Unset: the bar calibrated on the development sets.
   */
  minScore: z.number().min(0).max(1).optional(),
  /** Start the handoff itself on low confidence or a declined answer (otherwise it offers one). */
  auto: z.boolean().default(false),
  onNegativeFeedback: z.boolean().default(true),
  onRepeatedQuestion: z.boolean().default(true),
  /** Hand off a message that reads as frustrated, or as a complaint about us, from this score (0–1) on. */
  onFrustration: z.boolean().default(true),
  frustrationThreshold: z.number().min(0).max(1).default(0.7),
  onComplaint: z.boolean().default(true),
  complaintThreshold: z.number().min(0).max(1).default(0.7),
  triggerWords: z.array(z.string().trim().min(1).max(50)).max(50).default([]),
  team: z.string().trim().min(1).max(50).nullable().default(null),
});

export type BotModelSettings = z.infer<typeof botModelSchema>;
export type BotHandoffSettings = z.infer<typeof botHandoffSchema>;

/** Settings as stored may predate a field: parse with defaults, and never fail a reply over them. */
export function handoffSettings(stored: unknown): BotHandoffSettings {
  const parsed = botHandoffSchema.safeParse({ ...(stored as object) });
  return parsed.success ? parsed.data : botHandoffSchema.parse({});
}

export function modelSettings(stored: unknown): BotModelSettings {
  const parsed = botModelSchema.safeParse({ ...(stored as object) });
  return parsed.success ? parsed.data : {};
}
