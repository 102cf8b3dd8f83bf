/**
 * "gdm: Show usage" (also offered in the cost meter's breakdown): a webview tab charting the last
 * 30 days of `gdm.usage` by model and per day, in USD, calls or tokens. Strict CSP like the panel
 * (nothing remote, one nonce'd script and style), theme colours, plain SVG drawn by
 * logic/usageChart.ts; messages from the webview are checked and anything else is refused and logged.
 */
import * as vscode from "vscode";
import { randomBytes } from "node:crypto";
import { parseUsageMessage, renderUsage, windowDays, type Metric, type UsageRow } from "./logic/usageChart";

type Next = (args: unknown[]) => Promise<unknown>;
export const USAGE_VIEW = "gdm.usageChart";

export class UsageView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private metric: Metric = "usd";
  private byDay: UsageRow[] = [];
  private byModel: UsageRow[] = [];

  constructor(private readonly log: (line: string) => void) {}

  /** The palette command (no payload): open or reveal the chart. With a payload, only its data. */
  async show(args: unknown[], next: Next): Promise<unknown> {
    if (typeof args[0] === "object" && args[0] !== null) {
      return next(args);
    }
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Active);
    } else {
      this.panel = vscode.window.createWebviewPanel(USAGE_VIEW, "gdm usage", vscode.ViewColumn.Active,
        { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: true });
      this.panel.webview.html = shell();
      this.panel.webview.onDidReceiveMessage((raw: unknown) => void this.onMessage(raw));
      this.panel.onDidDispose(() => (this.panel = undefined));
    }
    await this.refresh();
    return undefined;
  }

  /** A cost update: redraw an open chart (debounced by the caller's rate: one per model call). */
  costChanged(): void {
    if (this.panel?.visible) {
      void this.refresh();
    }
  }

  private async onMessage(raw: unknown): Promise<void> {
    const request = parseUsageMessage(raw);
    if ("refused" in request) {
      this.log(`gdm usage: refused a webview message that is not one of the chart's own (${request.refused}): ` +
        JSON.stringify(raw)?.slice(0, 200));
      return;
    }
    if (request.type === "metric") {
      this.metric = request.metric;
      this.render();
      return;
    }
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    const since = windowDays(new Date())[0];
    try {
      const [day, model] = await Promise.all([
        vscode.commands.executeCommand("gdm.usage", { since, by: "day" }),
        vscode.commands.executeCommand("gdm.usage", { since, by: "model" }),
      ]) as ({ rows?: UsageRow[] } | undefined)[];
      this.byDay = day?.rows ?? [];
      this.byModel = model?.rows ?? [];
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log(`gdm usage: ${message}`);
      void vscode.window.showErrorMessage(`gdm: usage could not be read: ${message}`);
    }
    this.render();
  }

  private render(): void {
    void this.panel?.webview.postMessage({ type: "render", html: renderUsage(this.byDay, this.byModel, this.metric, new Date()) });
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

const SCRIPT = String.raw`(function () {
  const vscode = acquireVsCodeApi();
  const root = document.getElementById("root");
  window.addEventListener("message", (event) => {
    const m = event.data;
    if (!m || m.type !== "render" || typeof m.html !== "string") return;
    const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest("[data-action],[data-model],[data-day]") : null;
    const key = focused ? ["action", "metric", "model", "day"].map((k) => focused.dataset[k] || "").join("|") : null;
    root.innerHTML = m.html;
    root.setAttribute("aria-busy", "false");
    if (key) {
      for (const el of root.querySelectorAll("[data-action],[data-model],[data-day]")) {
        if (["action", "metric", "model", "day"].map((k) => el.dataset[k] || "").join("|") === key) { el.focus(); break; }
      }
    }
  });
  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const message = { type: button.dataset.action };
    if (button.dataset.metric) message.metric = button.dataset.metric;
    vscode.postMessage(message);
  });
  vscode.postMessage({ type: "ready" });
})();`;

const STYLE = `
body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size);
  padding: 8px 16px; }
h1 { font-size: 1.3em; margin: 4px 0 8px; }
h2 { font-size: 1.05em; margin: 16px 0 6px; }
.toolbar { display: flex; gap: 6px; margin-bottom: 6px; }
button { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground);
  border: none; padding: 3px 10px; cursor: pointer; font: inherit; border-radius: 2px; }
button.pressed { background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
button:hover { background: var(--vscode-button-hoverBackground); color: var(--vscode-button-foreground); }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
.summary, .empty { color: var(--vscode-descriptionForeground); }
svg.chart { display: block; max-width: 100%; height: auto; overflow: visible; }
svg text { fill: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: 12px; }
svg text.tick, svg text.value { fill: var(--vscode-descriptionForeground); font-size: 11px; }
svg .axis { stroke: var(--vscode-panel-border, var(--vscode-descriptionForeground)); }
svg .hit { fill: transparent; }
.bar-group { outline: none; }
.bar-group:focus .bar, .bar-group:hover .bar { stroke: var(--vscode-focusBorder); stroke-width: 2px; }
.bar-group:focus .hit { fill: var(--vscode-list-hoverBackground); }
.c0 { fill: var(--vscode-charts-blue); } .c1 { fill: var(--vscode-charts-green); } .c2 { fill: var(--vscode-charts-yellow); }
.c3 { fill: var(--vscode-charts-orange); } .c4 { fill: var(--vscode-charts-purple); } .c5 { fill: var(--vscode-charts-red); }
table.models { border-collapse: collapse; margin-top: 8px; }
table.models th, table.models td { padding: 2px 10px; border-bottom: 1px solid var(--vscode-panel-border); text-align: right; }
table.models th[scope="row"], table.models thead th:first-child { text-align: left; font-family: var(--vscode-editor-font-family); }
`;

/** The webview's one page: a root the extension fills with the rendered chart. */
function shell(): string {
  const nonce = randomBytes(16).toString("base64");
  const csp = [`default-src 'none'`, `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join("; ");
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${nonce}">${STYLE}</style></head>
<body><main id="root" aria-live="polite" aria-busy="true"><p class="empty">Reading usage…</p></main>
<script nonce="${nonce}">${SCRIPT}</script></body></html>`;
}
