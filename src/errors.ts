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

/**
 * Labyrinth extension (exclusive pages, labyrinths): a request that would reach, share, alias, move or free an
 * exclusive page without its key, or misuse a labyrinth. Thrown before anything changes. Stable codes:
 * EXCL_NO_KEY (direct-map access, get_page, free without the key), EXCL_NOT_SHAREABLE, EXCL_NOT_SPLITTABLE,
 * EXCL_FORGED_KEY, EXCL_REVOKED_KEY, EXCL_WRONG_LABYRINTH, EXCL_FOREIGN_KEY, EXCL_STALE_KEY, EXCL_BAD_GFP,
 * EXCL_RANGE, LABYRINTH_DEAD, LABYRINTH_BUSY, LABYRINTH_BAD_WRITE.
 */
export class ExclusivePageError extends LabyrinthError {
  /** The page concerned, or -1 when the key says nothing about it (forged keys). */
  readonly pfn: number;
  constructor(code: string, message: string, pfn = -1) {
    super(code, message);
    this.pfn = pfn;
  }
}
