/**
 * Where the bytes of a run a window holds are kept: a copy, because the message value is a slice of
 * the whole fetch response, which a long window would otherwise keep alive.
 *
 * Copies go into slabs of their own, one being filled per lifetime class (the longest window the run
 * joins, by powers of two of its length; trace candidates apart), one run after the other. Node's
 * buffer pool would put them in 8 KiB slabs shared with every other small buffer: a run of 1.6 KiB
 * fills four of them and leaves a fifth of the slab unused, and a slab lives until its last run's
 * window closes. Runs of one class joined windows of about one length at about one time, so they are
 * released about together and a slab does not outlive its runs by much more than a window.
 */

/** Bytes of one slab. */
export const SLAB_BYTES = 64 * 1024;
/** A run this large or larger gets a buffer of its own. */
export const OWN_BUFFER_BYTES = 8 * 1024;

/** A run held by a trace-aware rule's candidate (lives until its trace settles it). */
export const TRACE_CLASS = -1;

export interface HeldRuns {
  /** A copy of `value`, kept for about `lifetimeClass` (`lifetimeClassOf`). */
  copy(value: Uint8Array, lifetimeClass: number): Uint8Array;
}

/** The class of a run whose longest window lasts `seconds`: ⌊log2⌋ of it. */
export function lifetimeClassOf(seconds: number): number {
  return seconds <= 1 ? 0 : Math.floor(Math.log2(seconds));
}

export function createHeldRuns(slabBytes = SLAB_BYTES, ownBufferBytes = OWN_BUFFER_BYTES): HeldRuns {
  const filling = new Map<number, { slab: Buffer; used: number }>();
  return {
    copy(value, lifetimeClass) {
      const n = value.byteLength;
      if (n >= ownBufferBytes) {
        const own = Buffer.allocUnsafeSlow(n);
        own.set(value);
        return own;
      }
      let f = filling.get(lifetimeClass);
      if (f === undefined || f.used + n > f.slab.length) {
        f = { slab: Buffer.allocUnsafeSlow(slabBytes), used: 0 };
        filling.set(lifetimeClass, f);
      }
      const at = f.used;
      f.slab.set(value, at);
      f.used += n;
      return f.slab.subarray(at, at + n);
    },
  };
}
