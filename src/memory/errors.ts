/** Typed errors of the real-memory layer (stable codes; messages read "Cannot do X: because Y"). */
import { LabyrinthError } from '../errors.ts';

/**
 * An access outside what was handed out: an address in no allocation (free, reserved, a hole, out
 * of range), a range running past the end of its allocation, or memory with no backing store.
 */
export class MemoryAccessError extends LabyrinthError {
  readonly addr: number;
  readonly bytes: number;
  constructor(code: string, addr: number, bytes: number, why: string) {
    super(code, `Cannot access ${bytes} bytes at 0x${addr.toString(16)}: because ${why}`);
    this.addr = addr;
    this.bytes = bytes;
  }
}

/** An exclusive page (`__GFP_EXCL`) reached without its key (or with a key its gate refuses). */
export class ExclusiveAccessError extends MemoryAccessError {
  readonly pfn: number;
  constructor(addr: number, bytes: number, pfn: number) {
    super('EXCLUSIVE_PAGE', addr, bytes, `pfn 0x${pfn.toString(16)} is an exclusive page and its bytes are reachable only through its key`);
    this.pfn = pfn;
  }
}

/** A worker could not attach: no free CPU slot, a foreign buffer, an unshareable backing. */
export class AttachError extends LabyrinthError {}
