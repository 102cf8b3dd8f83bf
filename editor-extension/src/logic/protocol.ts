/**
 * The gdm wire payloads (payloads.md), as TypeScript types. Pure data: no VS Code here, so the
 * unit tests and the extension share one definition.
 */

export interface Position { line: number; character: number; }
export interface Range { start: Position; end: Position; }

export type RiskTier = "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";

export interface RiskReason { code: string; weight: number; message: string; }
export interface Risk { score: number; tier: RiskTier; reasons: RiskReason[]; }

export type HunkStatus = "pending" | "accepted" | "rejected" | string;

export interface Hunk {
  index: number;
  status: HunkStatus;
  /** Where the hunk's old lines sit in the current document: whole lines, end exclusive. */
  range: Range;
  oldText: string;
  newText: string;
  /** Sent by the server when the hunk no longer fits the current text (not in payloads.md). */
  fits?: boolean;
}

export interface Patch {
  patchId: string;
  taskId: string;
  uri: string;
  path: string;
  kind: "modify" | "create" | "delete" | "rename";
  status: "pending" | "partial" | "accepted" | "rejected";
  diff: string;
  risk: Risk | null;
  hunks: Hunk[];
  /** A rename: where the file goes (its one decision is hunk 0). */
  newUri?: string;
  newPath?: string;
}

export interface AskPayload { prompt?: string; uri?: string; range?: Range; }
export interface AskResult { taskId: string; }

export interface AcceptResult {
  applied: boolean;
  conflicts: { hunk: number; reason: string }[];
  appliedHunks?: number[];
  rejected?: number[];
}

export interface CostUpdate {
  taskId?: string | null;
  taskUsd: number;
  sessionUsd: number;
  dayUsd: number;
  budgetUsd: number;
  dayBudgetUsd: number;
  tokensIn: number;
  tokensOut: number;
  model?: string | null;
  priceKnown?: boolean;
  /** Where tests, checks and allowed commands run: "off" is the user's `sandbox: off`; "unavailable": nothing runs. */
  sandbox?: "on" | "off" | "unavailable";
}

export interface CostBreakdown extends CostUpdate {
  byModel: { model: string; usd: number; tokensIn: number; tokensOut: number; calls: number }[];
}

/** What the server read from a tool's whole result (README: `toolResult` `facts`); `{}` for none. */
export interface ToolFacts {
  hits?: number;
  more?: boolean;
  exitCode?: number | null;
  lastLine?: string;
  timedOut?: boolean;
  /** The sandbox could not start: nothing ran. */
  notRun?: boolean;
}

interface TaskEventBase { taskId: string; }
export type TaskEvent =
  | (TaskEventBase & { kind: "thinking"; text: string })
  | (TaskEventBase & { kind: "toolCall"; callId: string; name: string; arguments: unknown })
  | (TaskEventBase & { kind: "toolResult"; callId: string; name: string; ok: boolean; result: string; facts?: ToolFacts })
  | (TaskEventBase & { kind: "response"; text: string; delta: boolean })
  | (TaskEventBase & { kind: "error"; message: string; errorKind: string })
  | (TaskEventBase & { kind: "done"; status: string; patchIds: string[]; costUsd: number });

/** Custom notification methods (server -> client). */
export const TASK_EVENT = "gdm/taskEvent";
export const PATCH_PROPOSED = "gdm/patchProposed";
export const COST_UPDATE = "gdm/costUpdate";
