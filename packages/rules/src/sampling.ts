/**
 * Deterministic sampling: a run is sampled for a rule when a hash of (rule id, run id) mapped to
 * [0, 1) is below the rule's rate, so replays and every evaluator instance pick the same runs.
 *
 * The hash is FNV-1a 64 over the UTF-8 bytes of `${ruleId}:${runId}`, finished with MurmurHash3's
 * fmix64 (FNV's last bytes barely reach its top bits; fmix64 spreads them), and its top 53 bits
 * divided by 2^53. Arithmetic is on 16-bit limbs so it stays exact in doubles without BigInt.
 * Changing any of this changes which runs are sampled: treat it as a stored format.
 */
export function sampled(ruleId: string, runId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (!(rate > 0)) return false;
  return samplePoint(ruleId, runId) < rate;
}

/** Where a (rule, run) pair falls in [0, 1); the run is sampled at every rate above it. */
export function samplePoint(ruleId: string, runId: string): number {
  const h = fnv1a64(`${ruleId}:${runId}`);
  fmix64(h);
  const [h0, h1, h2, h3] = h;
  // Top 53 bits: all of h3, h2, h1 (48 bits) and the high 5 bits of h0.
  return (((h3 * 0x10000 + h2) * 0x10000 + h1) * 32 + (h0 >>> 11)) / 2 ** 53;
}

/** A 64-bit value as four 16-bit limbs, least significant first. */
type Limbs = [number, number, number, number];

/**
 * FNV-1a 64. Per byte: xor into the low limb, then multiply by the prime 0x100000001b3 = 2^40 + 0x1b3,
 * i.e. h * 0x1b3 + (h << 40), limb by limb with carries (every intermediate stays below 2^27).
 */
function fnv1a64(text: string): Limbs {
  // Offset basis 0xcbf29ce484222325.
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < text.length; i += 1) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdfff) {
      // A surrogate pair is one code point; a lone surrogate encodes as U+FFFD, as TextEncoder does.
      const next = text.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i += 1;
      } else code = 0xfffd;
    }
    // The code point's UTF-8 bytes, most significant first (ids are ASCII: one byte, one round).
    let bytes: number;
    let shift: number;
    if (code < 0x80) {
      bytes = 1;
      shift = 0;
    } else if (code < 0x800) {
      bytes = 2;
      shift = 6;
    } else if (code < 0x10000) {
      bytes = 3;
      shift = 12;
    } else {
      bytes = 4;
      shift = 18;
    }
    for (let b = 0; b < bytes; b += 1, shift -= 6) {
      const byte = b > 0 ? 0x80 | ((code >> shift) & 0x3f) : bytes === 1 ? code : leadByte(bytes) | (code >> shift);
      h0 ^= byte;
      const t0 = h0 * 0x1b3;
      const t1 = h1 * 0x1b3 + (t0 >>> 16);
      const t2 = h2 * 0x1b3 + (h0 << 8) + (t1 >>> 16);
      const t3 = h3 * 0x1b3 + (h1 << 8) + (t2 >>> 16);
      h0 = t0 & 0xffff;
      h1 = t1 & 0xffff;
      h2 = t2 & 0xffff;
      h3 = t3 & 0xffff;
    }
  }
  return [h0, h1, h2, h3];
}

/** The marker bits of a UTF-8 sequence's first byte: 110xxxxx, 1110xxxx, 11110xxx. */
function leadByte(bytes: number): number {
  return bytes === 2 ? 0xc0 : bytes === 3 ? 0xe0 : 0xf0;
}

/** MurmurHash3's 64-bit finaliser, in place: h ^= h >>> 33; h *= C1; h ^= h >>> 33; h *= C2; h ^= h >>> 33. */
function fmix64(h: Limbs): void {
  xorShift33(h);
  multiply(h, [0x8ccd, 0xed55, 0xafd7, 0xff51]); // 0xff51afd7ed558ccd
  xorShift33(h);
  multiply(h, [0xec53, 0x1a85, 0xb9fe, 0xc4ce]); // 0xc4ceb9fe1a85ec53
  xorShift33(h);
}

function xorShift33(h: Limbs): void {
  const [, , h2, h3] = h;
  // h >>> 33: limbs shift down by two (32 bits) and then by one bit.
  h[0] ^= ((h2 >>> 1) | (h3 << 15)) & 0xffff;
  h[1] ^= h3 >>> 1;
}

/** h = h * m mod 2^64. Every partial product is below 2^32 and every sum below 2^53: exact. */
function multiply(h: Limbs, m: Limbs): void {
  const [a0, a1, a2, a3] = h;
  const [b0, b1, b2, b3] = m;
  const c0 = a0 * b0;
  const c1 = a0 * b1 + a1 * b0 + Math.floor(c0 / 0x10000);
  const c2 = a0 * b2 + a1 * b1 + a2 * b0 + Math.floor(c1 / 0x10000);
  const c3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0 + Math.floor(c2 / 0x10000);
  h[0] = c0 % 0x10000;
  h[1] = c1 % 0x10000;
  h[2] = c2 % 0x10000;
  h[3] = c3 % 0x10000;
}
