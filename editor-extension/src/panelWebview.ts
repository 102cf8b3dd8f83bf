/**
 * The gdm panel's webview code and style, as strings the extension inlines with a nonce (the CSP
 * allows nothing else). The script only draws the HTML the extension renders (escaped there) and
 * sends the panel's own messages back; it keeps open tool-call lines open across redraws. A
 * streamed chunk comes as a "stream" message that touches only the streaming message: blocks that
 * became final are appended, its open tail is replaced, and everything else (focus, selection,
 * open tool calls) stays as it is. Each message is drawn when it arrives: the extension already
 * sends at most one a frame, and waiting for an animation frame here would only delay it.
 */

export const PANEL_SCRIPT = String.raw`(function () {
  const vscode = acquireVsCodeApi();
  const root = document.getElementById("root");
  const form = document.getElementById("composer");
  const prompt = document.getElementById("prompt");
  const opened = new Set();
  function rendered(t0) {
    void root.offsetHeight; // lay out now, so that the time measured includes it
    if (t0) vscode.postMessage({ type: "rendered", t0, at: Date.now() });
  }
  function draw(m) {
    root.querySelectorAll("details[data-call]").forEach((d) => d.open ? opened.add(d.dataset.call) : opened.delete(d.dataset.call));
    root.innerHTML = m.html;
    root.querySelectorAll("details[data-call]").forEach((d) => { if (opened.has(d.dataset.call)) d.open = true; });
    document.body.classList.toggle("in-conversation", !!m.conversation);
    prompt.placeholder = m.conversation ? "Follow up…" : "Ask gdm…";
    rendered(m.t0);
  }
  function stream(m) {
    const md = root.querySelector(".md[data-stream]");
    const tail = md && md.dataset.stream === m.stream && md.dataset.settled === String(m.from) ? md.querySelector(":scope > .tail") : null;
    if (!tail) {
      vscode.postMessage({ type: "resync" });
      return;
    }
    if (m.append) tail.insertAdjacentHTML("beforebegin", m.append);
    tail.innerHTML = m.tail;
    md.dataset.settled = String(m.to);
    rendered(m.t0);
  }
  window.addEventListener("message", (event) => {
    const m = event.data;
    if (m && m.type === "render" && typeof m.html === "string") draw(m);
    else if (m && m.type === "stream" && typeof m.stream === "string" && typeof m.append === "string" && typeof m.tail === "string") stream(m);
  });
  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const message = { type: button.dataset.action };
    if (button.dataset.conversation) message.conversationId = button.dataset.conversation;
    if (button.dataset.patch) message.patchId = button.dataset.patch;
    if (button.dataset.task) message.taskId = button.dataset.task;
    vscode.postMessage(message);
  });
  function send() {
    const text = prompt.value;
    if (!text.trim()) return;
    vscode.postMessage({ type: "send", text });
    prompt.value = "";
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(); }
  });
  vscode.postMessage({ type: "ready" });
})();`;

export const PANEL_STYLE = `
body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size);
  padding: 0 8px 8px; display: flex; flex-direction: column; min-height: 100vh; box-sizing: border-box; }
main { flex: 1; }
button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none;
  padding: 3px 10px; cursor: pointer; font: inherit; border-radius: 2px; }
button:hover { background: var(--vscode-button-hoverBackground); }
button.secondary { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
button:focus-visible, summary:focus-visible, textarea:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
.bar { display: flex; justify-content: space-between; align-items: center; padding: 6px 0; position: sticky; top: 0;
  background: var(--vscode-sideBar-background); }
.cost, .meta, .hint, .empty { color: var(--vscode-descriptionForeground); font-size: 0.9em; }
ul.conversations { list-style: none; padding: 0; margin: 6px 0; }
ul.conversations li { margin: 0 0 4px; }
button.conversation { width: 100%; text-align: left; display: flex; flex-direction: column;
  background: var(--vscode-list-inactiveSelectionBackground, transparent); color: var(--vscode-foreground); }
button.conversation:hover { background: var(--vscode-list-hoverBackground); }
.msg { margin: 8px 0; padding: 6px 8px; border-left: 2px solid var(--vscode-panel-border); }
.msg.user { border-left-color: var(--vscode-focusBorder); background: var(--vscode-input-background); }
.who { font-weight: bold; font-size: 0.85em; }
.text { white-space: pre-wrap; }
.md p { margin: 4px 0; }
.md > .tail { display: contents; }
.md.error { color: var(--vscode-errorForeground); }
code, pre { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
code { background: var(--vscode-textCodeBlock-background); padding: 0 2px; }
pre { background: var(--vscode-textCodeBlock-background); padding: 6px; overflow-x: auto; white-space: pre-wrap; }
details.tool { margin: 2px 0; }
details.tool summary { cursor: pointer; font-family: var(--vscode-editor-font-family); white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
details.tool .result { color: var(--vscode-descriptionForeground); }
.patch { border: 1px solid var(--vscode-panel-border); padding: 6px; margin: 4px 0 6px 12px; }
.patch .file { font-weight: bold; }
.tier { padding: 0 4px; border-radius: 2px; color: var(--vscode-editor-background); }
.tier-LOW { background: var(--vscode-charts-green); }
.tier-MEDIUM { background: var(--vscode-charts-yellow); }
.tier-HIGH { background: var(--vscode-charts-orange); }
.tier-CRITICAL { background: var(--vscode-charts-red); }
.reasons { margin: 4px 0; padding-left: 18px; font-size: 0.9em; }
.buttons { display: flex; gap: 6px; margin-top: 4px; }
.cursor { opacity: 0.6; }
.link { color: var(--vscode-textLink-foreground); }
form { position: sticky; bottom: 0; background: var(--vscode-sideBar-background); padding-top: 6px; }
textarea { width: 100%; box-sizing: border-box; resize: vertical; font: inherit;
  background: var(--vscode-input-background); color: var(--vscode-input-foreground);
  border: 1px solid var(--vscode-input-border, transparent); }
`;
