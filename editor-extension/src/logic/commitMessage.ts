/**
 * The commit message as the user edits it before `gdm.task.commit` commits: the subject in an
 * input box (prefilled with the server's proposal), the body and trailer kept as proposed.
 */

/** A message's subject (first line) and the rest (body and trailers, without the blank line). */
export function splitMessage(message: string): { subject: string; body: string } {
  const text = message.replace(/\r\n/g, "\n").replace(/\s+$/, "");
  const [subject, ...rest] = text.split("\n");
  return { subject: (subject ?? "").trim(), body: rest.join("\n").replace(/^\n+/, "") };
}

/** The message to commit: the edited subject, a blank line, the body. */
export function joinMessage(subject: string, body: string): string {
  const head = subject.trim();
  return body.trim() ? `${head}\n\n${body.trim()}\n` : `${head}\n`;
}

/** Why a subject cannot be used (shown under the input box), or undefined. */
export function subjectProblem(subject: string): string | undefined {
  if (!subject.trim()) {
    return "A commit needs a subject line.";
  }
  if (subject.includes("\n")) {
    return "One line: the body is kept as proposed.";
  }
  return subject.trim().length > 72 ? `${subject.trim().length} characters: 72 at most reads best in git log.` : undefined;
}

/** The "committed" line of a task in the Tasks view. */
export function shortCommit(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 7) : "";
}
