/**
 * Turns `gdm/taskEvent`s into the text of the "gdm" output channel: the model's text as it
 * streams, each tool call and its result, errors and the end of the task.
 */
import type { TaskEvent } from "./protocol";

/** Longest tool result or argument text shown on one line of the log. */
export const MAX_SHOWN = 300;

function oneLine(text: string, max = MAX_SHOWN): string {
  const flat = text.replace(/\s*\n\s*/g, " ⏎ ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function argsText(args: unknown): string {
  return oneLine(typeof args === "string" ? args : JSON.stringify(args ?? {}));
}

/**
 * Keeps the one piece of state the log needs: whether a streamed reply line is still open,
 * so that deltas append to it and any other event starts on a fresh line.
 */
export class TaskLogFormatter {
  private open: string | undefined;

  /** The text to append to the channel for this event (may end without a newline while streaming). */
  format(ev: TaskEvent): string {
    const tag = `[${ev.taskId}]`;
    if (ev.kind === "response") {
      if (ev.delta) {
        const head = this.open === ev.taskId ? "" : `${this.close()}${tag} gdm: `;
        this.open = ev.taskId;
        return head + ev.text;
      }
      if (this.open === ev.taskId) {
        this.open = undefined;
        return "\n"; // the streamed pieces already showed the whole reply
      }
      return `${this.close()}${tag} gdm: ${ev.text}\n`;
    }
    return this.close() + `${tag} ${this.line(ev)}\n`;
  }

  private close(): string {
    if (this.open === undefined) {
      return "";
    }
    this.open = undefined;
    return "\n";
  }

  private line(ev: Exclude<TaskEvent, { kind: "response" }>): string {
    switch (ev.kind) {
      case "thinking":
        return `… ${oneLine(ev.text)}`;
      case "toolCall":
        return `▶ ${ev.name} ${argsText(ev.arguments)}`;
      case "toolResult":
        return `${ev.ok ? "✓" : "✗"} ${ev.name}: ${oneLine(ev.result ?? "")}`;
      case "error":
        return `✗ error (${ev.errorKind}): ${ev.message}`;
      case "done":
        return `■ ${ev.status} — ${ev.patchIds.length} patch(es) to review, cost $${(ev.costUsd ?? 0).toFixed(4)}`;
      default:
        return `? ${JSON.stringify(ev)}`;
    }
  }
}

/** Progress message for a tool call, e.g. "read_file calc.py". */
export function describeToolCall(name: string, args: unknown): string {
  if (args && typeof args === "object") {
    const a = args as Record<string, unknown>;
    const brief = a.path ?? a.query ?? a.pattern ?? a.command ?? "";
    return `${name} ${String(brief)}`.trim();
  }
  return name;
}
