/**
 * Page poisoning and its corruption report: freed pages are filled with PAGE_POISON; when a
 * poisoned page is allocated again, a byte that is no longer PAGE_POISON means something wrote to
 * the page while it was free (a use after free), and the report mirrors the kernel's:
 *
 *   pagealloc: memory corruption            (or "pagealloc: single bit error" for one flipped bit)
 *   <address>: aa aa 00 aa …  ..........    (print_hex_dump of the first..last differing byte)
 *   page:(____ptrval____) refcount:… pfn:0x…
 *   flags: 0x…(…)
 *   page dumped because: pagealloc: corrupted page details
 *
 * @kernel mm/page_poison.c check_poison_mem, single_bit_flip (6.1); lib/hexdump.c print_hex_dump
 *   (DUMP_PREFIX_ADDRESS, rowsize 16, groupsize 1, ascii); include/linux/poison.h PAGE_POISON
 *
 * Differences: the kernel prints hashed pointers (%p) and a stack dump; Labyrinth prints the real
 * `void *` address (16 hex digits) and no stack. The kernel's ratelimit (10 reports per 5 s) is
 * replaced by a count: every corruption is counted, the report callback decides what to print.
 */
import { formatPageFlags } from '../mm/page_flags.ts';

/** include/linux/poison.h: the byte freed pages are filled with. */
export const PAGE_POISON = 0xaa;

/** @kernel mm/page_poison.c single_bit_flip */
export function singleBitFlip(a: number, b: number): boolean {
  const error = (a ^ b) & 0xff;
  return error !== 0 && (error & (error - 1)) === 0;
}

/** First index in [from, to) whose byte is not PAGE_POISON, or -1 (memchr_inv). */
export function firstNotPoison(u8: Uint8Array, from: number, to: number): number {
  // Compare 4 bytes at a time where aligned (a poisoned page is almost always all 0xaa).
  let i = from;
  if ((u8.byteOffset + i) % 4 === 0 && to - i >= 4) {
    const n32 = (to - i) >>> 2;
    const w = new Int32Array(u8.buffer, u8.byteOffset + i, n32);
    const P32 = 0xaaaaaaaa | 0;
    let k = 0;
    while (k < n32 && w[k] === P32) k++;
    i += k * 4;
    if (k === n32 && i === to) return -1;
  }
  for (; i < to; i++) if (u8[i] !== PAGE_POISON) return i;
  return -1;
}

/** Last index in (start, to) whose byte is not PAGE_POISON, else start. */
export function lastNotPoison(u8: Uint8Array, start: number, to: number): number {
  for (let i = to - 1; i > start; i--) if (u8[i] !== PAGE_POISON) return i;
  return start;
}

/** The address as %p prints a pointer on a 64-bit kernel (16 hex digits). */
export function formatPointer(addr: number): string {
  return addr.toString(16).padStart(16, '0');
}

/**
 * print_hex_dump(KERN_ERR, "", DUMP_PREFIX_ADDRESS, 16, 1, buf, len, true): one line per 16 bytes,
 * `<address>: xx xx … xx` padded to the ascii column (3 * 16 + 2 − 1 characters), then the bytes
 * as ASCII ('.' for anything not printable).
 * @kernel lib/hexdump.c print_hex_dump, hex_dump_to_buffer
 */
export function printHexDump(bytes: Uint8Array, startAddr: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, Math.min(bytes.length, i + 16));
    let hex = '';
    let ascii = '';
    for (let j = 0; j < row.length; j++) {
      const ch = row[j]!;
      hex += (j === 0 ? '' : ' ') + ch.toString(16).padStart(2, '0');
      ascii += ch >= 0x20 && ch < 0x7f ? String.fromCharCode(ch) : '.';
    }
    lines.push(`${formatPointer(startAddr + i)}: ${hex.padEnd(3 * 16 + 2 - 1, ' ')}${ascii}`);
  }
  return lines;
}

/** The page fields dump_page prints. */
export interface PoisonPageState {
  pfn: number;
  flags: number;
  refcount: number;
  order: number;
}

/** A use after free caught by the poison check. */
export interface PageCorruption {
  /** "memory corruption" or "single bit error". */
  kind: 'memory corruption' | 'single bit error';
  pfn: number;
  /** Address of the first and last differing byte. */
  firstAddr: number;
  lastAddr: number;
  /** The kernel-style report, one line per element. */
  lines: string[];
}

/**
 * check_poison_mem over one page's bytes `u8[off .. off + PAGE_SIZE)` at address `addr`.
 * Returns null when the page still reads as PAGE_POISON everywhere.
 * @kernel mm/page_poison.c check_poison_mem
 */
export function checkPoisonMem(u8: Uint8Array, off: number, bytes: number, addr: number, page: PoisonPageState): PageCorruption | null {
  const start = firstNotPoison(u8, off, off + bytes);
  if (start < 0) return null;
  const end = lastNotPoison(u8, start, off + bytes);
  const kind = start === end && singleBitFlip(u8[start]!, PAGE_POISON) ? 'single bit error' : 'memory corruption';
  const firstAddr = addr + (start - off);
  const lines = [`pagealloc: ${kind}`, ...printHexDump(u8.subarray(start, end + 1), firstAddr), ...dumpPage(page, 'pagealloc: corrupted page details')];
  return { kind, pfn: page.pfn, firstAddr, lastAddr: addr + (end - off), lines };
}

/** dump_page's lines for our page descriptor. @kernel mm/debug.c __dump_page */
export function dumpPage(p: PoisonPageState, reason: string): string[] {
  const hex = p.pfn.toString(16);
  return [
    `page:(____ptrval____) refcount:${p.refcount} mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x${hex}`,
    `flags: 0x${p.flags.toString(16)}(${formatPageFlags(p.flags)})`,
    `page dumped because: ${reason}`,
  ];
}
