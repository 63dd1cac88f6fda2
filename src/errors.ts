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

/**
 * Misuse of a page: double free, wrong order, freeing a tail page or a page never allocated, a pfn
 * out of range, a refcount underflow or overflow. The message mimics the kernel's
 * "BUG: Bad page state" report (mm/page_alloc.c bad_page, mm/debug.c __dump_page).
 * The allocator checks before it mutates, so when this is thrown no state has changed.
 */
export class BadPageStateError extends LabyrinthError {
  readonly pfn: number;
  readonly flags: number;
  readonly refcount: number;
  readonly order: number;
  /** "page dumped because: …" */
  readonly reason: string;
  constructor(pfn: number, flags: number, flagNames: string, refcount: number, order: number, reason: string, requestedOrder = -1) {
    const pfnHex = pfn >= 0 ? pfn.toString(16) : `-${(-pfn).toString(16)}`;
    const lines = [
      `BUG: Bad page state in process labyrinth  pfn:${pfnHex.padStart(5, '0')}`,
      `page:(____ptrval____) refcount:${refcount} mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x${pfnHex}`,
      `flags: 0x${flags.toString(16)}(${flagNames})`,
      `page dumped because: ${reason}`,
      `order:${order}${requestedOrder >= 0 ? ` requested order:${requestedOrder}` : ''}`,
    ];
    super('BAD_PAGE_STATE', lines.join('\n'));
    this.pfn = pfn;
    this.flags = flags;
    this.refcount = refcount;
    this.order = order;
    this.reason = reason;
  }
}
