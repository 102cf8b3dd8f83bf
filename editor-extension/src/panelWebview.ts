/**
 * The gdm panel's webview code and style, as strings the extension inlines with a nonce (the CSP
 * allows nothing else). The script only draws the HTML the extension renders (escaped there) and
 * sends the panel's own messages back; it keeps open tool-call lines open across redraws. A
 * streamed chunk comes as a "stream" message that touches only the streaming message: blocks that
 * became final are appended, its open tail is replaced, and everything else (focus, selection,
 * open tool calls) stays as it is. Each message is drawn when it arrives: the extension already
 * sends at most one a frame, and waiting for an animation frame here would only delay it.
 *
 * Layout, like VS Code's own chat view: the message list (#root) fills the view's height and
 * scrolls by itself, the prompt box stays at the bottom. The list follows new text while the user
 * has not scrolled away from its end; once they have (wheel, keys, its scrollbar), it stays where
 * they put it and "Jump to latest" shows until they are back at the end.
 */

export const PANEL_SCRIPT = String.raw`(function () {
  const vscode = acquireVsCodeApi();
  const root = document.getElementById("root");
  const jump = document.getElementById("jump");
  const form = document.getElementById("composer");
  const prompt = document.getElementById("prompt");
  const opened = new Set();
  let follow = true;
  let view = "";
  const atEnd = () => root.scrollHeight - root.scrollTop - root.clientHeight <= 4;
  function showJump() { jump.hidden = follow || atEnd() || !document.body.classList.contains("in-conversation"); }
  // After content changed: keep the end in view while following, else keep the user's place.
  function settle(keep) {
    if (follow) root.scrollTop = root.scrollHeight;
    else if (keep !== undefined) root.scrollTop = keep;
    showJump();
  }
  function rendered(t0) {
    void root.offsetHeight; // lay out now, so that the time measured includes it
    if (t0) vscode.postMessage({ type: "rendered", t0, at: Date.now() });
  }
  function draw(m) {
    const keep = root.scrollTop;
    root.querySelectorAll("details[data-call]").forEach((d) => d.open ? opened.add(d.dataset.call) : opened.delete(d.dataset.call));
    root.innerHTML = m.html;
    root.querySelectorAll("details[data-call]").forEach((d) => { if (opened.has(d.dataset.call)) d.open = true; });
    document.body.classList.toggle("in-conversation", !!m.conversation);
    prompt.placeholder = m.conversation ? "Follow up…" : "Ask gdm…";
    if (m.view !== view) { // another conversation, or the list: start at its end (the list at its top)
      view = m.view;
      follow = !!m.conversation;
      settle(0);
    } else {
      settle(keep);
    }
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
    settle();
    rendered(m.t0);
  }
  window.addEventListener("message", (event) => {
    const m = event.data;
    if (m && m.type === "render" && typeof m.html === "string") draw(m);
    else if (m && m.type === "stream" && typeof m.stream === "string" && typeof m.append === "string" && typeof m.tail === "string") stream(m);
  });
  // The user's own scrolling decides: away from the end stops following, back at the end resumes.
  // Wheel and keys stop it at once (a smooth scroll reaches the 'scroll' event frames later, and a
  // chunk in between would pull the list back down).
  root.addEventListener("scroll", () => { follow = atEnd(); showJump(); });
  root.addEventListener("wheel", (event) => { if (event.deltaY < 0) { follow = false; showJump(); } }, { passive: true });
  root.addEventListener("keydown", (event) => {
    if (event.target === root && ["ArrowUp", "PageUp", "Home"].includes(event.key)) { follow = false; showJump(); }
  });
  root.addEventListener("mousedown", (event) => { if (event.target === root) { follow = false; showJump(); } }); // its scrollbar
  new ResizeObserver(() => settle()).observe(root);
  jump.addEventListener("click", () => { follow = true; settle(); });
  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const message = { type: button.dataset.action };
    if (button.dataset.conversation) message.conversationId = button.dataset.conversation;
    if (button.dataset.patch) message.patchId = button.dataset.patch;
    if (button.dataset.task) message.taskId = button.dataset.task;
    if (message.type === "commit") button.disabled = true; // once: the redraw after the answer brings it back if it failed
    vscode.postMessage(message);
  });
  function send() {
    const text = prompt.value;
    if (!text.trim()) return;
    vscode.postMessage({ type: "send", text });
    prompt.value = "";
    follow = true; // what you just asked, and its answer, come at the end
    settle();
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(); }
  });
  vscode.postMessage({ type: "ready" });
})();`;

export const PANEL_STYLE = `
html, body { height: 100%; margin: 0; }
body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size);
  padding: 0 0 8px; display: flex; flex-direction: column; box-sizing: border-box; overflow: hidden; }
.list { position: relative; flex: 1 1 auto; min-height: 0; display: flex; }
main { flex: 1 1 auto; min-height: 0; overflow-y: auto; padding: 0 8px; overscroll-behavior: contain; }
#jump { position: absolute; bottom: 8px; left: 50%; transform: translateX(-50%); z-index: 2; border-radius: 12px;
  padding: 3px 12px; box-shadow: 0 1px 4px var(--vscode-widget-shadow, rgba(0, 0, 0, 0.3)); }
#jump[hidden] { display: none; }
button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none;
  padding: 3px 10px; cursor: pointer; font: inherit; border-radius: 2px; }
button:hover { background: var(--vscode-button-hoverBackground); }
button.secondary { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
button:focus-visible, summary:focus-visible, textarea:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
.bar { display: flex; justify-content: space-between; align-items: center; padding: 6px 0; position: sticky; top: 0; z-index: 1;
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
pre { background: var(--vscode-textCodeBlock-background); padding: 6px; margin: 4px 0; overflow: auto; white-space: pre; }
pre code { background: none; padding: 0; }
.md pre { max-height: 20em; }
details.tool { margin: 2px 0; }
details.tool summary { cursor: pointer; list-style-position: outside; margin-left: 1em; }
details.tool .mark { display: inline-block; width: 1.1em; }
details.tool .why { color: var(--vscode-errorForeground); }
details.tool .call { margin: 2px 0 6px 1em; }
details.tool .label { color: var(--vscode-descriptionForeground); font-size: 0.85em; margin-top: 4px; }
dl.args { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 8px; margin: 2px 0; }
dl.args dt { color: var(--vscode-descriptionForeground); font-family: var(--vscode-editor-font-family); }
dl.args dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
pre.value, pre.output, pre.args { max-height: 16em; margin: 0; }
.patch { border: 1px solid var(--vscode-panel-border); padding: 6px; margin: 4px 0 6px 12px; }
.patch .file { font-weight: bold; }
.tier { padding: 0 4px; border-radius: 2px; color: var(--vscode-editor-background); }
.tier-LOW { background: var(--vscode-charts-green); }
.tier-MEDIUM { background: var(--vscode-charts-yellow); }
.tier-HIGH { background: var(--vscode-charts-orange); }
.tier-CRITICAL { background: var(--vscode-charts-red); }
.reasons { margin: 4px 0; padding-left: 18px; font-size: 0.9em; }
.buttons { display: flex; gap: 6px; margin-top: 4px; }
.task-foot { display: flex; gap: 6px; align-items: center; margin: 0 0 10px 10px; }
.task-foot .committed { color: var(--vscode-descriptionForeground); font-size: 0.9em; }
.cursor { opacity: 0.6; }
.link { color: var(--vscode-textLink-foreground); }
form { flex: none; padding: 6px 8px 0; border-top: 1px solid var(--vscode-panel-border, transparent); }
textarea { width: 100%; box-sizing: border-box; resize: vertical; max-height: 40vh; font: inherit;
  background: var(--vscode-input-background); color: var(--vscode-input-foreground);
  border: 1px solid var(--vscode-input-border, transparent); }
`;
