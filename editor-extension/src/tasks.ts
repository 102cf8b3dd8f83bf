/**
 * What a running task shows: a cancellable progress notification reporting each tool call,
 * and the "gdm" output channel listing the task's events (streamed text, tool calls, results).
 */
import * as vscode from "vscode";
import type { TaskEvent } from "./logic/protocol";
import { TaskLogFormatter, describeToolCall } from "./logic/taskLog";

interface Running {
  progress?: vscode.Progress<{ message?: string }>;
  finish: () => void;
}

export class TaskUi implements vscode.Disposable {
  readonly channel: vscode.OutputChannel;
  private readonly formatter = new TaskLogFormatter();
  private readonly running = new Map<string, Running>();
  private readonly changed = new vscode.EventEmitter<number>();
  /** Fires with the number of running tasks whenever it changes. */
  readonly onDidChangeRunning = this.changed.event;
  /** The errorKind of the latest task error, by message, so its showMessage gets the right action. */
  readonly recentErrors = new Map<string, string>();

  constructor(private readonly cancel: (taskId: string) => Promise<void>) {
    this.channel = vscode.window.createOutputChannel("gdm");
  }

  /** A task was started (by `gdm.ask`): show its progress notification. */
  started(taskId: string, prompt: string): void {
    if (this.running.has(taskId)) {
      return;
    }
    this.channel.appendLine(`[${taskId}] ► ${prompt}`);
    const entry: Running = { finish: () => undefined };
    this.running.set(taskId, entry);
    this.changed.fire(this.running.size);
    const title = `gdm: ${prompt.length > 60 ? `${prompt.slice(0, 59)}…` : prompt}`;
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve) => {
          entry.progress = progress;
          entry.finish = resolve;
          progress.report({ message: "starting…" });
          token.onCancellationRequested(() => void this.cancel(taskId));
          if (!this.running.has(taskId)) {
            resolve(); // it ended before the notification opened
          }
        }),
    );
  }

  /** A `gdm/taskEvent` arrived. */
  onEvent(ev: TaskEvent): void {
    this.channel.append(this.formatter.format(ev));
    if (!this.running.has(ev.taskId) && ev.kind !== "done") {
      this.started(ev.taskId, "task");
    }
    const entry = this.running.get(ev.taskId);
    switch (ev.kind) {
      case "toolCall":
        entry?.progress?.report({ message: describeToolCall(ev.name, ev.arguments) });
        break;
      case "response":
        if (!ev.delta) {
          entry?.progress?.report({ message: "writing the answer" });
        }
        break;
      case "error":
        this.recentErrors.set(ev.message, ev.errorKind);
        break;
      case "done":
        this.end(ev.taskId);
        break;
    }
  }

  /** The ids of running tasks, newest last. */
  runningIds(): string[] {
    return [...this.running.keys()];
  }

  /** Close every progress (server stopped). */
  endAll(): void {
    for (const id of [...this.running.keys()]) {
      this.end(id);
    }
  }

  private end(taskId: string): void {
    const entry = this.running.get(taskId);
    if (!entry) {
      return;
    }
    this.running.delete(taskId);
    entry.finish();
    this.changed.fire(this.running.size);
  }

  dispose(): void {
    this.endAll();
    this.changed.dispose();
    this.channel.dispose();
  }
}
