/**
 * Pure views of a pending patch: the text with its hunks applied (the right side of
 * "Review all"), where to draw each hunk in the current document, and the markdown of the
 * risk badge and hunk hovers.
 */
import type { Hunk, Patch, Risk } from "./protocol";

/** Offsets of the start of every line of `text` (one more than the number of line breaks). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\n") {
      starts.push(i + 1);
    }
  }
  return starts;
}

function offsetOfLine(starts: number[], text: string, line: number): number {
  return line < starts.length ? starts[line] : text.length;
}

/** Is this hunk still waiting for review (and placeable in the current text)? */
export function isPending(h: Hunk): boolean {
  return h.status === "pending" && h.fits !== false;
}

/**
 * The text after applying the given hunks (default: every pending one) to `text`, the
 * current document. Hunk ranges are whole lines of `text`, end exclusive.
 */
export function applyHunks(text: string, hunks: Hunk[], which?: number[]): string {
  const starts = lineStarts(text);
  const chosen = hunks
    .filter((h) => (which ? which.includes(h.index) : isPending(h)))
    .sort((a, b) => b.range.start.line - a.range.start.line);
  let out = text;
  for (const h of chosen) {
    const from = offsetOfLine(starts, text, h.range.start.line);
    const to = offsetOfLine(starts, text, h.range.end.line);
    let insert = h.newText;
    // The last line of a file without a final newline: keep it that way.
    if (to === text.length && !text.endsWith("\n") && insert.endsWith("\n") && h.oldText && !h.oldText.endsWith("\n")) {
      insert = insert.slice(0, -1);
    }
    out = out.slice(0, from) + insert + out.slice(to);
  }
  return out;
}

/** Split text into lines without their line breaks ("" -> []). */
export function splitLines(text: string): string[] {
  if (!text) {
    return [];
  }
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") {
    lines.pop();
  }
  return lines.map((l) => l.replace(/\r$/, ""));
}

/** Where and what to draw for one pending hunk. */
export interface HunkMarks {
  index: number;
  /** Lines [start, end) of the current document that the hunk removes (may be empty). */
  removed: { start: number; end: number };
  /** The hunk's new lines, shown as a preview (they are not in the document yet). */
  inserted: string[];
  /** Line that carries the inserted-text preview. */
  previewLine: number;
  /** Line that carries the risk badge (the hunk's first line). */
  badgeLine: number;
}

/** Decoration marks for every pending hunk of a patch, clamped to a document of `lineCount` lines. */
export function hunkMarks(patch: Patch, lineCount: number): HunkMarks[] {
  const last = Math.max(0, lineCount - 1);
  const clamp = (n: number) => Math.min(Math.max(0, n), last);
  return patch.hunks.filter(isPending).map((h) => {
    const start = h.range.start.line;
    const end = Math.max(start, h.range.end.line);
    const previewLine = end > start ? clamp(end - 1) : clamp(start > 0 ? start - 1 : 0);
    return {
      index: h.index,
      removed: { start: clamp(start), end: end > start ? clamp(end - 1) + 1 : clamp(start) },
      inserted: splitLines(h.newText),
      previewLine,
      badgeLine: clamp(start),
    };
  });
}

/** The inserted lines on one line: "+ if b == 0: ⏎ raise ValueError(…)". */
export function insertedPreview(lines: string[], max = 120): string {
  if (lines.length === 0) {
    return "";
  }
  const flat = lines.map((l) => l.trim()).join(" ⏎ ");
  const shown = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  return `+${lines.length}: ${shown}`;
}

/** Inserted lines shown whole in the editor: at most this many, then a line saying how many more. */
export const ZONE_MAX_LINES = 200;

/** The inserted lines as a fenced Markdown block (in the document's language, for its colours). */
export function insertedBlock(lines: string[], languageId = "", max = ZONE_MAX_LINES): string {
  const shown = lines.slice(0, max);
  let fence = "```";
  while (shown.some((l) => l.includes(fence))) {
    fence += "`";
  }
  const more = lines.length > max ? `\n\n… and ${lines.length - max} more lines (gdm: Review all changes shows them all)` : "";
  return `${fence}${languageId.replace(/[^\w+#.-]/g, "")}\n${shown.join("\n")}\n${fence}${more}`;
}

/** The heading of a hunk's inserted lines: how many, where they go, the patch's risk. */
export function zoneLabel(patch: Patch, mark: HunkMarks): string {
  const n = mark.inserted.length;
  const what = mark.removed.end > mark.removed.start
    ? `replaces ${mark.removed.end - mark.removed.start === 1 ? "the line" : `the ${mark.removed.end - mark.removed.start} lines`} above`
    : mark.previewLine < mark.removed.start ? "inserted below" : "inserted above";
  return `gdm: +${n} line${n === 1 ? "" : "s"} ${what} (pending) · ${riskBadge(patch.risk)}`;
}

const TIER_ICON: Record<string, string> = { LOW: "●", MEDIUM: "▲", HIGH: "⚠", CRITICAL: "⛔" };

/** The risk badge text: "▲ gdm risk MEDIUM 0.45". */
export function riskBadge(risk: Risk | null | undefined): string {
  if (!risk) {
    return "gdm risk: not scored";
  }
  return `${TIER_ICON[risk.tier] ?? "●"} gdm risk ${risk.tier} ${risk.score.toFixed(2)}`;
}

/** Hover markdown for the risk badge: tier, score and each reason with its weight. */
export function riskHover(patch: Patch): string {
  const risk = patch.risk;
  const what = patch.kind === "rename" && patch.newPath ? `move to \`${patch.newPath}\`` : patch.kind;
  const head = `**${riskBadge(risk)}** — \`${patch.path}\` (${what}, patch ${patch.patchId})`;
  if (!risk || risk.reasons.length === 0) {
    return `${head}\n\nNo risk reasons.`;
  }
  const reasons = risk.reasons.map((r) => `- ${r.message} (\`${r.code}\`, +${r.weight.toFixed(2)})`);
  return [head, "", ...reasons].join("\n");
}

/** Hover markdown for a hunk: its old and new lines as a diff block. */
export function hunkHover(h: Hunk): string {
  const minus = splitLines(h.oldText).map((l) => `- ${l}`);
  const plus = splitLines(h.newText).map((l) => `+ ${l}`);
  const fence = [...minus, ...plus].some((l) => l.includes("```")) ? "````" : "```";
  return [`**gdm: pending change, hunk ${h.index}**`, "", `${fence}diff`, ...minus, ...plus, fence].join("\n");
}

/** The patches that are still open (pending or partly reviewed). */
export function openPatches(patches: Iterable<Patch>): Patch[] {
  return [...patches].filter((p) => (p.status === "pending" || p.status === "partial") && p.hunks.some(isPending));
}
