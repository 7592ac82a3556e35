/** Sentences, cutting after Chinese and Western sentence ends and at line breaks. */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[。！？；!?])|(?<=[.])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s.length >= 4);
}
