import { test } from "node:test";
import assert from "node:assert/strict";
import { DAYS, formatValue, parseUsageMessage, renderUsage, valueOf, windowDays, type UsageRow } from "../../src/logic/usageChart";

const today = new Date("2026-12-03T23:59:00Z");
const row = (extra: Partial<UsageRow>): UsageRow => ({ calls: 0, tokensIn: 0, tokensOut: 0, usd: 0, unpricedCalls: 0, ...extra });
const byModel = [row({ model: "openai/small", calls: 2, tokensIn: 100, tokensOut: 10, usd: 0.01 }),
  row({ model: "openai/<big>", calls: 3, tokensIn: 3000, tokensOut: 300, usd: 1.5, unpricedCalls: 1 })];
const byDay = [row({ day: "2026-10-01", calls: 9, usd: 9 }), row({ day: "2026-11-04", calls: 1, usd: 0.5 }),
  row({ day: "2026-12-03", calls: 4, tokensIn: 3100, tokensOut: 310, usd: 1.01 })];

test("the window is the 30 UTC days ending today, oldest first", () => {
  const days = windowDays(today);
  assert.equal(days.length, DAYS);
  assert.equal(days[0], "2026-11-04");
  assert.equal(days[DAYS - 1], "2026-12-03");
  assert.deepEqual(windowDays(new Date("2026-03-01T00:00:00Z"), 3), ["2026-02-27", "2026-02-28", "2026-03-01"]);
});

test("values and their formats per metric", () => {
  assert.equal(valueOf(byModel[1], "usd"), 1.5);
  assert.equal(valueOf(byModel[1], "calls"), 3);
  assert.equal(valueOf(byModel[1], "tokens"), 3300);
  assert.equal(formatValue(1.5, "usd"), "$1.50");
  assert.equal(formatValue(3300, "tokens"), "3,300");
});

test("one focusable bar per model, largest first, names escaped, with a table of the same figures", () => {
  const html = renderUsage(byDay, byModel, "usd", today);
  const bars = [...html.matchAll(/<g class="bar-group" tabindex="0" role="listitem" aria-label="([^"]*)" data-model="([^"]*)"/g)];
  assert.deepEqual(bars.map((m) => m[2]), ["openai/&lt;big&gt;", "openai/small"]);
  assert.match(bars[0][1], /\$1\.50, 3 call\(s\), 3000 in \/ 300 out tokens, 1 unpriced/);
  assert.ok(!html.includes("<big>"), "no raw model name in the markup");
  assert.match(html, /<th scope="row">openai\/&lt;big&gt;<\/th><td>3<\/td><td>3000<\/td><td>300<\/td><td>\$1\.50<\/td><td>1<\/td>/);
  assert.match(html, /2026-11-04 – 2026-12-03 \(UTC\): \$1\.51 over 5 model call\(s\) by 2 model\(s\)/);
  assert.ok(!/style=/.test(html), "no inline style attributes: the CSP would block them");
});

test("30 day columns; a day before the window is left out; the metric buttons say which is pressed", () => {
  const html = renderUsage(byDay, byModel, "calls", today);
  assert.equal([...html.matchAll(/data-day="/g)].length, DAYS);
  assert.ok(!html.includes('data-day="2026-10-01"'));
  assert.match(html, /aria-label="2026-12-03: \$1\.01, 4 call\(s\)/);
  assert.match(html, /aria-label="2026-11-05: no model calls"/);
  assert.match(html, /data-metric="calls" aria-pressed="true" class="pressed">Calls/);
  assert.match(html, /data-metric="usd" aria-pressed="false">USD/);
  assert.match(html, /data-action="refresh"/);
});

test("zero data is readable: a sentence instead of model bars, and an empty 30-day axis", () => {
  for (const html of [renderUsage([], [], "usd", today), renderUsage(undefined as unknown as UsageRow[], null as unknown as UsageRow[], "tokens", today)]) {
    assert.match(html, /No model calls recorded in the last 30 days/);
    assert.match(html, /\$0\.0000 over 0 model call\(s\) by 0 model\(s\)/);
    assert.ok(!html.includes("data-model="));
    assert.equal([...html.matchAll(/data-day="/g)].length, DAYS);
    assert.ok(!/NaN|Infinity/.test(html));
  }
});

test("only the chart's own webview messages are accepted", () => {
  assert.deepEqual(parseUsageMessage({ type: "ready" }), { type: "ready" });
  assert.deepEqual(parseUsageMessage({ type: "refresh", extra: 1 }), { type: "refresh" });
  assert.deepEqual(parseUsageMessage({ type: "metric", metric: "tokens" }), { type: "metric", metric: "tokens" });
  for (const bad of [null, "refresh", 7, {}, { type: "metric", metric: "euros" }, { type: "accept", patchId: "p" }]) {
    assert.ok("refused" in parseUsageMessage(bad), JSON.stringify(bad));
  }
});
