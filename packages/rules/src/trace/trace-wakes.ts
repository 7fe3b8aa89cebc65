/**
 * When the trace fold must look at a trace again: a binary min-heap of (stream time, sequence, key).
 * Entries are never updated in place; one that no longer matches its trace's `wakeAt` is stale and
 * skipped when it comes up. The sequence breaks ties in insertion order, so the order is a function
 * of the fold's inputs alone.
 */
export interface Wake {
  readonly at: number;
  readonly seq: number;
  readonly key: string;
}

function before(a: Wake, b: Wake): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

export function pushWake(heap: Wake[], w: Wake): void {
  heap.push(w);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

export function popWake(heap: Wake[]): Wake | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (top === undefined || last === undefined || heap.length === 0) return top;
  heap[0] = last;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let least = i;
    if (l < heap.length && before(heap[l]!, heap[least]!)) least = l;
    if (r < heap.length && before(heap[r]!, heap[least]!)) least = r;
    if (least === i) return top;
    [heap[i], heap[least]] = [heap[least]!, heap[i]!];
    i = least;
  }
}
