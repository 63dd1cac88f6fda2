/**
 * A seeded pseudo-random generator for the simulator: sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG,
 * 128-bit state, period ≥ 2^32), seeded from one uint32 through splitmix32. Same seed, same stream, on every
 * platform: only 32-bit integer arithmetic (`Math.imul`, `>>>`) is used. Nothing in src/sim may call Math.random.
 *
 * @example
 * const rng = new Rng(42);
 * rng.int(0, 3);           // uniform integer in [0, 3]
 * rng.exponential(1e6);    // exponential with mean 1e6
 * rng.pickWeighted([1, 3]); // 0 with p=1/4, 1 with p=3/4
 */
export class Rng {
  /** The sfc32 state a, b, c, d as int32 bit patterns (a typed array: no boxed doubles for values ≥ 2^30). */
  private readonly s = new Int32Array(4);

  constructor(seed: number) {
    let s = seed >>> 0;
    // splitmix32 spreads a small seed over the 128-bit state.
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s[0] = next();
    this.s[1] = next();
    this.s[2] = next();
    this.s[3] = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Next uniform uint32. */
  u32(): number {
    // sfc32 in int32 arithmetic: the same bits as in uint32, the result read back as uint32
    const st = this.s;
    const a = st[0]!, b = st[1]!, c = st[2]!, d = st[3]!;
    const t = (a + b + d) | 0;
    st[3] = d + 1;
    st[0] = b ^ (b >>> 9);
    st[1] = c + (c << 3);
    st[2] = ((c << 21) | (c >>> 11)) + t;
    return t >>> 0;
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). Bias is below 2^-32 per unit of range: negligible here. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Exponentially distributed value with the given mean (inverse transform; never returns Infinity). */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Index i with probability weights[i] / Σ weights. Weights must be ≥ 0 with a positive sum. */
  pickWeighted(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i]!;
    let x = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** A derived generator: an independent stream for a sub-component, stable under reordering of other draws. */
  fork(salt: number): Rng {
    return new Rng((this.s[0]! ^ Math.imul(salt + 1, 0x9e3779b1)) >>> 0);
  }
}

/** A generator for a named stream of a seed: `streamRng(seed, 'actor:rx')` is independent of other names. */
export function streamRng(seed: number, name: string): Rng {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return new Rng(h >>> 0);
}
