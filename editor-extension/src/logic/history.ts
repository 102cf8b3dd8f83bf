/** The prompt history behind the "Ask gdm" input: newest first, no repeats, bounded. */

export const HISTORY_MAX = 20;

/** History after using `prompt`: it moves to the front; blanks are ignored. */
export function remember(history: readonly string[], prompt: string, max = HISTORY_MAX): string[] {
  const p = prompt.trim();
  if (!p) {
    return [...history];
  }
  return [p, ...history.filter((h) => h !== p)].slice(0, max);
}
