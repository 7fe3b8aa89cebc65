import { compressSync } from "snappy";

/**
 * A message value made of slices of bytes, handed to kafkajs without being put together: a producer
 * whose values repeat large slices (the evaluator's window parts: one run in every window it joins)
 * writes each slice's bytes once per record batch instead of copying and compressing them per value.
 *
 * kafkajs takes a value as a Buffer: the value is a placeholder Buffer of the value's length (a view
 * of a shared zero-filled arena, so it costs no memory of its own) whose slices are remembered here.
 * The lean encoder (lean-encoder.ts) keeps the placeholder's place in a record instead of copying its
 * bytes, and the Snappy codec (snappy.ts) assembles such a record set's Snappy block from its slices
 * (`snappyPieces`): a shared slice is compressed once however many values hold the same Uint8Array,
 * and repeated within a record batch by reference.
 *
 * Invariants: a shared slice's bytes never change once it is in a value (its block is cached by its
 * identity); any other path that reads the placeholder's bytes gets them put together (`joinSlices`),
 * never the arena's zeros, because it reads them through an encoder's `buffer`. Without the lean
 * encoder (`slicedValuesSupported()` false) callers build their values whole.
 */
export interface ValueSlices {
  /** Bytes of this value alone (compressed with each record batch). */
  readonly head: Uint8Array;
  /** Slices that may recur in other values, in order after the head. */
  readonly shared: readonly Uint8Array[];
  /** head + shared, in bytes. */
  readonly length: number;
}

const slicesOf = new WeakMap<Uint8Array, ValueSlices>();
let arena = Buffer.alloc(1 << 20);
let supported = false;

/** Set by `useLeanEncoder` once kafkajs' encoder keeps placeholders in place. */
export function enableSlicedValues(): void {
  supported = true;
}

/** Whether kafkajs in this process encodes sliced values (its encoder has the lean layout). */
export function slicedValuesSupported(): boolean {
  return supported;
}

/** A placeholder value for `head` followed by `shared`: pass it as a message's `value`. */
export function slicedValue(head: Uint8Array, shared: readonly Uint8Array[]): Buffer {
  let length = head.byteLength;
  for (const s of shared) length += s.byteLength;
  if (length > arena.length) arena = Buffer.alloc(2 ** Math.ceil(Math.log2(length)));
  const placeholder = arena.subarray(0, length);
  slicesOf.set(placeholder, { head, shared, length });
  return placeholder;
}

/** The slices a placeholder stands for; undefined for any other Buffer. */
export function valueSlices(value: unknown): ValueSlices | undefined {
  return value instanceof Uint8Array ? slicesOf.get(value) : undefined;
}

/** The value's bytes put together. */
export function joinSlices(v: Pick<ValueSlices, "head" | "shared">): Buffer {
  let length = v.head.byteLength;
  for (const s of v.shared) length += s.byteLength;
  const out = Buffer.allocUnsafe(length);
  out.set(v.head, 0);
  let at = v.head.byteLength;
  for (const s of v.shared) {
    out.set(s, at);
    at += s.byteLength;
  }
  return out;
}

/** What a record set holds in order: bytes written whole, or a sliced value in its place. */
export type RecordSetPiece = Uint8Array | ValueSlices;

/** Snappy elements of shared slices, by the slice's identity: computed once, alive as long as the slice. */
const sharedElements = new WeakMap<Uint8Array, Buffer>();

/** A shared slice shorter than this is written as a literal: a copy would not be shorter. */
const MIN_COPY = 16;
/** A Snappy copy element covers at most 64 bytes. */
const COPY_MAX = 64;

/** The elements of a raw Snappy block: its bytes after the varint of its uncompressed length. */
function elementsOf(block: Buffer): Buffer {
  let at = 0;
  while ((block[at++]! & 0x80) !== 0);
  return block.subarray(at);
}

function compressedElements(slice: Uint8Array): Buffer {
  let e = sharedElements.get(slice);
  if (e === undefined) {
    // copyOutputData: see snappy.ts (napi-rs' external buffers cost more than the compression).
    e = elementsOf(compressSync(slice, { copyOutputData: true }));
    sharedElements.set(slice, e);
  }
  return e;
}

/** Bytes of a literal element's tag (its length - 1 in the tag, or in 1–4 bytes after it). */
const literalTagBytes = (n: number) => (n <= 60 ? 1 : n <= 0x100 ? 2 : n <= 0x10000 ? 3 : n <= 0x1000000 ? 4 : 5);

function writeLiteral(out: Buffer, at: number, bytes: Uint8Array): number {
  const n = bytes.byteLength - 1;
  const tagBytes = literalTagBytes(bytes.byteLength);
  if (tagBytes === 1) out[at] = n << 2;
  else {
    out[at] = (59 + tagBytes - 1) << 2;
    out.writeUIntLE(n, at + 1, tagBytes - 1);
  }
  out.set(bytes, at + tagBytes);
  return at + tagBytes + bytes.byteLength;
}

/** Bytes of the copy elements that repeat `length` bytes from `distance` back. */
const copyBytes = (length: number, distance: number) => Math.ceil(length / COPY_MAX) * (distance >= 0x10000 ? 5 : 3);

/** Copy elements repeating `length` bytes from `distance` bytes back (1-byte tag, then the offset). */
function writeCopies(out: Buffer, at: number, length: number, distance: number): number {
  const wide = distance >= 0x10000;
  for (let left = length; left > 0; left -= COPY_MAX) {
    const n = left < COPY_MAX ? left : COPY_MAX;
    out[at] = ((n - 1) << 2) | (wide ? 3 : 2);
    out[at + 1] = distance & 0xff;
    out[at + 2] = (distance >>> 8) & 0xff;
    if (wide) {
      out[at + 3] = (distance >>> 16) & 0xff;
      out[at + 4] = (distance >>> 24) & 0xff;
      at += 5;
    } else at += 3;
  }
  return at;
}

/** Snappy's bound on the compressed size of n bytes (`MaxCompressedLength`), literal tags included. */
const compressedBound = (n: number) => 32 + n + Math.ceil(n / 6);

/**
 * At most how many bytes a value adds to a record set `snappyPieces` assembles, when the shared slices
 * in `seen` are in the record set already: what a producer counts against the broker's limit on a
 * record batch, whose compressed size is what the broker checks. Undefined for a value that is not
 * sliced. `keepSlices` then adds the value's slices to `seen`.
 */
export function assembledBytesBound(value: unknown, seen: ReadonlySet<Uint8Array>): number | undefined {
  const v = valueSlices(value);
  if (v === undefined) return undefined;
  let bytes = v.head.byteLength + 5;
  for (const s of v.shared) {
    if (s.byteLength < MIN_COPY) bytes += s.byteLength + 1;
    else if (seen.has(s)) bytes += Math.ceil(s.byteLength / COPY_MAX) * 5;
    else bytes += compressedBound(s.byteLength);
  }
  return bytes;
}

/** Adds a sliced value's shared slices to `seen` (see `assembledBytesBound`). */
export function keepSlices(value: unknown, seen: Set<Uint8Array>): void {
  for (const s of valueSlices(value)?.shared ?? []) if (s.byteLength >= MIN_COPY) seen.add(s);
}

function writeVarint(out: Buffer, value: number): number {
  let at = 0;
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/**
 * A record set given as pieces as one raw Snappy block, as kafkajs' own codec writes it, assembled
 * rather than compressed whole: a Snappy copy names a distance back in the output, so the elements of
 * a slice compressed alone decode the same wherever they are placed. Bytes written whole and heads go
 * in as literals; a shared slice goes in as its elements (compressed once, cached) where it first
 * occurs, and as copies of that occurrence (5 bytes per 64) wherever it occurs again — a run in twenty
 * parts of one record batch is compressed once and costs ~8% of its size nineteen times.
 *
 * Two passes over the pieces: the first places every slice and sizes the block, the second writes it
 * into one buffer (a first occurrence is where the first pass placed it).
 */
export function snappyPieces(pieces: readonly RecordSetPiece[]): Buffer {
  const first = new Map<Uint8Array, number>();
  let position = 0;
  let size = 0;
  const sizePlain = (b: Uint8Array) => {
    if (b.byteLength === 0) return;
    size += literalTagBytes(b.byteLength) + b.byteLength;
    position += b.byteLength;
  };
  for (const p of pieces) {
    if (p instanceof Uint8Array) {
      sizePlain(p);
      continue;
    }
    sizePlain(p.head);
    for (const s of p.shared) {
      if (s.byteLength < MIN_COPY) sizePlain(s);
      else {
        const at = first.get(s);
        if (at === undefined) {
          first.set(s, position);
          size += compressedElements(s).length;
        } else size += copyBytes(s.byteLength, position - at);
        position += s.byteLength;
      }
    }
  }
  const head = Buffer.allocUnsafe(5);
  const headBytes = writeVarint(head, position);
  const out = Buffer.allocUnsafe(headBytes + size);
  let at = head.copy(out, 0, 0, headBytes);
  position = 0;
  const plain = (b: Uint8Array) => {
    if (b.byteLength === 0) return;
    at = writeLiteral(out, at, b);
    position += b.byteLength;
  };
  for (const p of pieces) {
    if (p instanceof Uint8Array) {
      plain(p);
      continue;
    }
    plain(p.head);
    for (const s of p.shared) {
      if (s.byteLength < MIN_COPY) plain(s);
      else {
        const from = first.get(s)!;
        if (from === position) at += compressedElements(s).copy(out, at);
        else at = writeCopies(out, at, s.byteLength, position - from);
        position += s.byteLength;
      }
    }
  }
  return out;
}
