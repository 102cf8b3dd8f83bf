/**
 * A small, safe Markdown renderer for the model's text in the gdm panel: every character of the
 * input is HTML-escaped first, then a fixed set of constructs becomes markup (fenced and inline
 * code, headings, bullet and numbered lists, bold, italics, links shown as text, paragraphs).
 * No raw HTML ever passes through, and no URL becomes a live link or an image (the panel loads no
 * remote content). Pure: no VS Code here.
 */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const FENCE_OPEN = /^\s*```(\S*)\s*$/;
const FENCE_CLOSE = /^\s*```\s*$/;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Inline constructs of one escaped line. */
function inline(escaped: string): string {
  const codes: string[] = [];
  let out = escaped.replace(/`([^`]+)`/g, (_m, code: string) => {
    codes.push(`<code>${code}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  out = out
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '$1 <span class="link">($2)</span>');
  return out.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => codes[Number(i)]);
}

/** Markdown text (possibly cut mid-stream) as HTML. */
export function renderMarkdown(text: string): string {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const out: string[] = [];
  let paragraph: string[] = [];
  let list: { tag: "ul" | "ol"; items: string[] } | undefined;
  const flush = () => {
    if (paragraph.length) {
      out.push(`<p>${paragraph.map((l) => inline(escapeHtml(l))).join("<br>")}</p>`);
      paragraph = [];
    }
    if (list) {
      out.push(`<${list.tag}>${list.items.map((i) => `<li>${inline(escapeHtml(i))}</li>`).join("")}</${list.tag}>`);
      list = undefined;
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = FENCE_OPEN.exec(line);
    if (fence) {
      flush();
      const body: string[] = [];
      for (i++; i < lines.length && !FENCE_CLOSE.test(lines[i]); i++) {
        body.push(lines[i]);
      }
      const lang = fence[1] ? ` data-lang="${escapeHtml(fence[1])}"` : "";
      out.push(`<pre${lang}><code>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*+]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const level = Math.min(6, heading[1].length + 2); // h3.. inside a message
      out.push(`<h${level}>${inline(escapeHtml(heading[2]))}</h${level}>`);
    } else if (bullet || numbered) {
      const tag = bullet ? "ul" : "ol";
      if (paragraph.length || (list && list.tag !== tag)) {
        flush();
      }
      list = list ?? { tag, items: [] };
      list.items.push((bullet ?? numbered)![1]);
    } else if (!line.trim()) {
      flush();
    } else {
      if (list) {
        flush();
      }
      paragraph.push(line);
    }
  }
  flush();
  return out.join("");
}

/**
 * Where the blocks of a growing (streamed) text that can no longer change end: just after its last
 * complete blank line outside a code fence, scanning from `from` (0, or an earlier such point).
 * `renderMarkdown` keeps no state across such a line, so for each such point `k`,
 * `renderMarkdown(text) === renderMarkdown(text.slice(0, k)) + renderMarkdown(text.slice(k))`
 * whatever text follows: a stream renders the part before it once and re-renders only the rest.
 */
export function settledLength(text: string, from = 0): number {
  let settled = from;
  let inFence = false;
  for (let start = from, end = text.indexOf("\n", start); end !== -1; start = end + 1, end = text.indexOf("\n", start)) {
    const line = text.slice(start, end);
    if (inFence) {
      inFence = !FENCE_CLOSE.test(line);
    } else if (FENCE_OPEN.test(line)) {
      inFence = true;
    } else if (!line.trim()) {
      settled = end + 1;
    }
  }
  return settled;
}
