/**
 * The client's copy of the server's open patches, fed by `gdm/patchProposed` and
 * `gdm.patch.list`; decorations, the diff view and the pickers read it.
 */
import * as vscode from "vscode";
import type { Patch } from "./logic/protocol";
import { openPatches } from "./logic/patchView";

/** Normalise a URI string the way VS Code prints it, so server and editor URIs compare equal. */
export function uriKey(uri: string | vscode.Uri): string {
  return (typeof uri === "string" ? vscode.Uri.parse(uri) : uri).toString();
}

export class PatchStore implements vscode.Disposable {
  private readonly patches = new Map<string, Patch>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after any patch was added, updated or dropped. */
  readonly onDidChange = this.changed.event;

  /** A patch was proposed or its status changed. */
  upsert(patch: Patch): void {
    this.patches.set(patch.patchId, patch);
    this.changed.fire();
  }

  /** Replace everything with the server's list of open patches. */
  replaceAll(patches: Patch[]): void {
    this.patches.clear();
    for (const p of patches) {
      this.patches.set(p.patchId, p);
    }
    this.changed.fire();
  }

  get(patchId: string): Patch | undefined {
    return this.patches.get(patchId);
  }

  /** Open (pending or partial) patches, optionally only those of one document. */
  open(uri?: vscode.Uri): Patch[] {
    const all = openPatches(this.patches.values());
    if (!uri) {
      return all;
    }
    const key = uriKey(uri);
    return all.filter((p) => uriKey(p.uri) === key);
  }

  clear(): void {
    this.replaceAll([]);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
