/**
 * Which run ids an open window may hold: a Bloom filter over the ids of the runs the fold's open
 * windows hold, so a run read for the first time (nearly every run) skips the duplicate check of every
 * window it joins — one test per run instead of a set lookup per window joined, and no id set kept per
 * window until a run that may be a copy asks.
 *
 * Invariant (what the fold relies on): `mayHold(f, id)` is true for every id `add`ed since the last
 * `reset`. It may be true for other ids too (about 1 in 150 at the densest, far fewer just after a
 * reset); the fold then checks the windows themselves, so a wrong "maybe" costs time, never a verdict.
 * Ids are never removed: the fold resets the filter from the runs its open windows hold once `full`,
 * after at least as many additions as it then holds, so a reset costs O(1) per addition. Its memory
 * is bounded (`MAX_FILTER_BITS`): open windows holding more distinct ids than half what the largest
 * filter takes get a saturated one, and every run asks its windows until enough of them closed.
 */
export interface RunIdFilter {
  bits: Uint32Array;
  /** Bits - 1 (bits is a power of two). */
  mask: number;
  /** Ids added since the last reset (with repeats). */
  added: number;
  /** `full` once `added` reaches it: a sixteenth of the bits, where 3 probes answer "maybe" for ~0.7% of ids. */
  limit: number;
}

export const MIN_FILTER_BITS = 1 << 16;
/** The largest filter: 4 MiB, two million ids before it is full. */
export const MAX_FILTER_BITS = 1 << 25;
/** Bits per id held at a reset: 32 keeps the filter a sixteenth full until as many ids again were added. */
const BITS_PER_HELD = 32;

/** A filter for `held` ids (counted with repeats: an upper bound), at most `maxBits` bits. */
export function createRunIdFilter(held = 0, maxBits = MAX_FILTER_BITS): RunIdFilter {
  let bits = MIN_FILTER_BITS;
  while (bits < held * BITS_PER_HELD && bits < maxBits) bits *= 2;
  return { bits: new Uint32Array(bits / 32), mask: bits - 1, added: 0, limit: bits / 16 };
}

/**
 * A filter that holds every id (never full): the fold's while its open windows hold more ids than the
 * largest filter takes, so that every run asks its windows, until enough of them close.
 */
export function saturatedRunIdFilter(): RunIdFilter {
  return {
    bits: new Uint32Array(MIN_FILTER_BITS / 32).fill(0xffffffff),
    mask: MIN_FILTER_BITS - 1,
    added: 0,
    limit: Number.POSITIVE_INFINITY,
  };
}

export function saturated(f: RunIdFilter): boolean {
  return f.limit === Number.POSITIVE_INFINITY;
}

/** FNV-1a over the id's UTF-16 code units; the second probe step is derived from it (double hashing). */
function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function stepOf(h: number): number {
  let x = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return ((x ^ (x >>> 16)) | 1) >>> 0;
}

export function mayHold(f: RunIdFilter, id: string): boolean {
  const h = hashOf(id);
  const step = stepOf(h);
  const { bits, mask } = f;
  for (let i = 0, at = h; i < 3; i++, at = (at + step) >>> 0) {
    const bit = at & mask;
    if ((bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
  }
  return true;
}

export function addRunId(f: RunIdFilter, id: string): void {
  const h = hashOf(id);
  const step = stepOf(h);
  const { bits, mask } = f;
  for (let i = 0, at = h; i < 3; i++, at = (at + step) >>> 0) {
    const bit = at & mask;
    bits[bit >>> 5]! |= 1 << (bit & 31);
  }
  f.added++;
}

/** Adds `id` unless the filter may hold it already: `added` then counts distinct ids (a rebuild's). */
export function addNewRunId(f: RunIdFilter, id: string): void {
  if (!mayHold(f, id)) addRunId(f, id);
}

/** Whether the filter should be rebuilt from the ids the open windows hold (`createRunIdFilter`). */
export function full(f: RunIdFilter): boolean {
  return f.added >= f.limit;
}
