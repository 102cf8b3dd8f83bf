/**
 * The usage chart ("gdm: Show usage", also in the cost meter's breakdown): the last 30 days of
 * `gdm.usage` rows drawn as plain SVG — one bar per model and one column per day — with a table of
 * the same figures, in USD, calls or tokens. Pure: it returns escaped HTML that the webview
 * (usageView.ts) shows as is; colours are CSS classes on the theme's chart colours (the CSP allows
 * no inline style attributes), and every bar is focusable with its figures as its label.
 */
import { escapeHtml } from "./markdown";
import { usd } from "./costView";

/** One row of `gdm.usage` (`gdm usage --format json`): `day` or `model` is the group key. */
export interface UsageRow {
  day?: string;
  model?: string;
  calls: number;
  tokensIn: number;
  tokensOut: number;
  usd: number;
  unpricedCalls: number;
}

export type Metric = "usd" | "calls" | "tokens";
export const METRICS: readonly Metric[] = ["usd", "calls", "tokens"];
const METRIC_TITLE: Record<Metric, string> = { usd: "USD", calls: "Calls", tokens: "Tokens" };
export const DAYS = 30;
const COLOURS = 6;

/** What the webview may send; anything else is refused. */
export type UsageRequest = { type: "ready" } | { type: "refresh" } | { type: "metric"; metric: Metric };

export function parseUsageMessage(raw: unknown): UsageRequest | { refused: string } {
  if (typeof raw !== "object" || raw === null) {
    return { refused: "not an object" };
  }
  const m = raw as Record<string, unknown>;
  if (m.type === "ready" || m.type === "refresh") {
    return { type: m.type };
  }
  if (m.type === "metric") {
    return METRICS.includes(m.metric as Metric) ? { type: "metric", metric: m.metric as Metric } : { refused: "unknown metric" };
  }
  return { refused: `unknown type ${JSON.stringify(m.type)?.slice(0, 40)}` };
}

/** The `DAYS` UTC days ending `today`, oldest first, as YYYY-MM-DD. */
export function windowDays(today: Date, days = DAYS): string[] {
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  return Array.from({ length: days }, (_, i) => new Date(end - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

export function valueOf(row: UsageRow, metric: Metric): number {
  if (metric === "usd") {
    return num(row.usd);
  }
  return metric === "calls" ? num(row.calls) : num(row.tokensIn) + num(row.tokensOut);
}

export function formatValue(v: number, metric: Metric): string {
  return metric === "usd" ? usd(v) : Math.round(v).toLocaleString("en-US");
}

function describe(row: UsageRow): string {
  const unpriced = num(row.unpricedCalls) ? `, ${num(row.unpricedCalls)} unpriced` : "";
  return `${usd(num(row.usd))}, ${num(row.calls)} call(s), ${num(row.tokensIn)} in / ${num(row.tokensOut)} out tokens${unpriced}`;
}

function modelBars(rows: UsageRow[], metric: Metric): string {
  const sorted = [...rows].sort((a, b) => valueOf(b, metric) - valueOf(a, metric) || String(a.model).localeCompare(String(b.model)));
  const max = Math.max(0, ...sorted.map((r) => valueOf(r, metric)));
  const rowH = 26;
  const labelW = 220;
  const barW = 300;
  const bars = sorted.map((r, i) => {
    const v = valueOf(r, metric);
    const w = max > 0 ? Math.max(v > 0 ? 2 : 0, Math.round((barW * v) / max)) : 0;
    const y = i * rowH;
    const name = escapeHtml(String(r.model ?? "(unknown)"));
    const label = `${name}: ${escapeHtml(describe(r))}`;
    return `<g class="bar-group" tabindex="0" role="listitem" aria-label="${label}" data-model="${name}">` +
      `<title>${label}</title>` +
      `<text class="label" x="${labelW - 8}" y="${y + 17}" text-anchor="end">${name}</text>` +
      `<rect class="bar c${i % COLOURS}" x="${labelW}" y="${y + 4}" width="${w}" height="${rowH - 8}"></rect>` +
      `<text class="value" x="${labelW + w + 6}" y="${y + 17}">${escapeHtml(formatValue(v, metric))}</text></g>`;
  });
  const h = Math.max(1, sorted.length) * rowH;
  return `<svg class="chart models" viewBox="0 0 640 ${h}" width="640" height="${h}" role="list" aria-label="${METRIC_TITLE[metric]} by model, last ${DAYS} days">${bars.join("")}</svg>`;
}

function dayColumns(rows: UsageRow[], days: string[], metric: Metric): string {
  const byDay = new Map(rows.map((r) => [String(r.day), r]));
  const values = days.map((d) => (byDay.has(d) ? valueOf(byDay.get(d)!, metric) : 0));
  const max = Math.max(0, ...values);
  const left = 60;
  const top = 10;
  const plotH = 120;
  const colW = 18;
  const cols = days.map((d, i) => {
    const v = values[i];
    const h = max > 0 ? Math.max(v > 0 ? 2 : 0, Math.round((plotH * v) / max)) : 0;
    const x = left + i * colW;
    const row = byDay.get(d);
    const label = `${d}: ${row ? escapeHtml(describe(row)) : "no model calls"}`;
    const tick = i % 5 === 0 || i === days.length - 1
      ? `<text class="tick" x="${x + colW / 2}" y="${top + plotH + 16}" text-anchor="middle">${d.slice(5)}</text>` : "";
    return `<g class="bar-group" tabindex="0" role="listitem" aria-label="${label}" data-day="${d}"><title>${label}</title>` +
      `<rect class="hit" x="${x}" y="${top}" width="${colW}" height="${plotH}"></rect>` +
      `<rect class="bar c0" x="${x + 2}" y="${top + plotH - h}" width="${colW - 4}" height="${h}"></rect>${tick}</g>`;
  });
  const axis = `<line class="axis" x1="${left}" y1="${top + plotH}" x2="${left + days.length * colW}" y2="${top + plotH}"></line>` +
    `<text class="tick" x="${left - 6}" y="${top + 8}" text-anchor="end">${escapeHtml(formatValue(max, metric))}</text>` +
    `<text class="tick" x="${left - 6}" y="${top + plotH}" text-anchor="end">0</text>`;
  const w = left + days.length * colW + 10;
  return `<svg class="chart days" viewBox="0 0 ${w} 160" width="${w}" height="160" role="list" aria-label="${METRIC_TITLE[metric]} per day, last ${DAYS} days">${axis}${cols.join("")}</svg>`;
}

function table(rows: UsageRow[]): string {
  const body = rows.map((r) => `<tr><th scope="row">${escapeHtml(String(r.model ?? "(unknown)"))}</th><td>${num(r.calls)}</td>` +
    `<td>${num(r.tokensIn)}</td><td>${num(r.tokensOut)}</td><td>${usd(num(r.usd))}</td><td>${num(r.unpricedCalls)}</td></tr>`).join("");
  return `<table class="models"><thead><tr><th scope="col">model</th><th scope="col">calls</th><th scope="col">tokens in</th>` +
    `<th scope="col">tokens out</th><th scope="col">USD</th><th scope="col">unpriced calls</th></tr></thead><tbody>${body}</tbody></table>`;
}

/** The chart page's content for the rows of `gdm.usage` by day and by model since `windowDays(today)[0]`. */
export function renderUsage(byDay: UsageRow[], byModel: UsageRow[], metric: Metric, today: Date): string {
  const days = windowDays(today);
  const models = (Array.isArray(byModel) ? byModel : []).filter((r) => num(r.calls) > 0);
  const inWindow = (Array.isArray(byDay) ? byDay : []).filter((r) => typeof r.day === "string" && r.day >= days[0]);
  const total = models.reduce((s, r) => s + num(r.usd), 0);
  const calls = models.reduce((s, r) => s + num(r.calls), 0);
  const toolbar = `<div class="toolbar" role="toolbar" aria-label="What to chart">` +
    METRICS.map((m) => `<button data-action="metric" data-metric="${m}" aria-pressed="${m === metric}"` +
      `${m === metric ? ' class="pressed"' : ""}>${METRIC_TITLE[m]}</button>`).join("") +
    `<button data-action="refresh" class="secondary">Refresh</button></div>`;
  const range = `${days[0]} – ${days[days.length - 1]} (UTC)`;
  const head = `<h1>gdm usage, last ${DAYS} days</h1>${toolbar}` +
    `<p class="summary">${escapeHtml(range)}: ${usd(total)} over ${calls} model call(s) by ${models.length} model(s), every user of this store.</p>`;
  const byModelPart = models.length
    ? modelBars(models, metric) + table(models)
    : `<p class="empty">No model calls recorded in the last ${DAYS} days. Costs appear here after a task has called a model.</p>`;
  return `${head}<h2>By model</h2>${byModelPart}<h2>Per day</h2>${dayColumns(inWindow, days, metric)}`;
}
