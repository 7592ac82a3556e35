import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROMPTS_DIR = fileURLToPath(new URL('../../../../prompts/', import.meta.url));

export const PROMPT_NAMES = [
  'answer.system',
  'answer.user',
  'rewrite',
  'summary',
  'suggestion',
  'handoff-classifier',
  'untrusted-data',
  'title',
] as const;
export type PromptName = (typeof PROMPT_NAMES)[number];

export type PromptSet = Readonly<Record<PromptName, string>>;

/** Reads every template once at start; a missing one stops the start rather than failing a user later. */
export async function loadPrompts(dir = PROMPTS_DIR): Promise<PromptSet> {
  const files = new Set(await readdir(dir));
  const entries = await Promise.all(
    PROMPT_NAMES.map(async (name) => {
      if (!files.has(`${name}.md`)) throw new Error(`Prompt template ${path.join(dir, `${name}.md`)} is missing`);
      return [name, (await readFile(path.join(dir, `${name}.md`), 'utf8')).trim()] as const;
    }),
  );
  return Object.freeze(Object.fromEntries(entries) as Record<PromptName, string>);
}

/** Fills `{name}` variables; a bot's override of the template wins over the file. */
export function renderPrompt(
  prompts: PromptSet,
  name: PromptName,
  variables: Record<string, string>,
  overrides: Record<string, unknown> = {},
): string {
  const override = overrides[name];
  const template = typeof override === 'string' && override.trim() ? override : prompts[name];
  return template.replace(/\{([A-Za-z]+)\}/g, (whole, key: string) => variables[key] ?? whole);
}
