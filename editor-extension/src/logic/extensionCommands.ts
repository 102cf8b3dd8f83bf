/** Commands the extension registers itself; every other contributed command belongs to the server. */
export const EXTENSION_COMMANDS: readonly string[] = [
  "gdm.reviewAll",
  "gdm.review.accept",
  "gdm.review.reject",
  "gdm.showLog",
  "gdm.restartServer",
  "gdm.tasks.refresh",
  "gdm.tasks.review",
  "gdm.tasks.acceptAll",
  "gdm.tasks.undo",
  "gdm.tasks.commit",
  "gdm.completions.toggle",
];
