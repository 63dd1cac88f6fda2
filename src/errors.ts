/**
 * Typed errors shared by every layer. Each carries a stable `code` so that callers
 * (and the CLI's --json output) can branch on it without parsing messages.
 * Messages read "Cannot do X: because Y".
 */
export class LabyrinthError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Input that cannot be understood: an unparseable mask, an unknown flag, a malformed file. */
export class BadInputError extends LabyrinthError {
  /** 1-based line number in the input, when the input is a text file. */
  readonly line: number | undefined;
  constructor(code: string, message: string, line?: number) {
    super(code, line === undefined ? message : `line ${line}: ${message}`);
    this.line = line;
  }
}
