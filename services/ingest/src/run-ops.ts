import { DEFAULT_MAX_JSON_DEPTH, depthOf, nestsDeeperThan } from "@runhooks/limits";
import type { MultipartPart } from "./multipart.js";
import { isObject, type JsonObject } from "./json-object.js";
import { NO_SENT_JSON, type SentJson } from "./run-json.js";

/**
 * Turning request bodies into run operations: a create (`post`) or an update (`patch`) of one run,
 * still as the client sent it. Every refusal names the part (or batch entry) and the field at fault.
 */

export type OpKind = "post" | "patch";

export interface RunOp {
  readonly kind: OpKind;
  readonly id: string;
  readonly body: JsonObject;
  /** Where it came from, for error messages: `post.<id>`, `post[3]`, `(body)`. */
  readonly source: string;
}

export interface Issue {
  /** The multipart part, batch entry or `(body)`. */
  readonly part: string;
  /** The field within it (`start_time`, `extra.metadata`), or `(part)` for the whole part. */
  readonly path: string;
  readonly message: string;
}

export type OpsResult =
  | {
      readonly ok: true;
      readonly ops: RunOp[];
      readonly ignored: { readonly attachments: number; readonly feedback: number };
      /** The JSON text of the objects that came in parts of their own (run-json.ts). */
      readonly sent: SentJson;
    }
  | { readonly ok: false; readonly issues: readonly Issue[] };

/** The fields the SDKs send as parts of their own (`post.<id>.inputs`…), each a JSON value. */
export const SPLIT_FIELDS: ReadonlySet<string> = new Set([
  "inputs",
  "outputs",
  "events",
  "extra",
  "error",
  "serialized",
]);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseJson(data: Buffer): { ok: true; value: unknown; text: string } | { ok: false; message: string } {
  try {
    const text = data.toString("utf8");
    return { ok: true, value: JSON.parse(text) as unknown, text };
  } catch (error) {
    return { ok: false, message: `not valid JSON (${(error as Error).message})` };
  }
}

/** One run's parts in a multipart body: its main part's object and its field parts (field, value, part name). */
interface PartsOfRun {
  readonly kind: OpKind;
  readonly id: string;
  body: JsonObject | undefined;
  readonly fields: [string, unknown, string][];
}

/**
 * The operations of a `/runs/multipart` body: `post.<id>` / `patch.<id>` hold the run without its
 * large fields, `post.<id>.<field>` carry those; `attachment.<id>.<name>` and `feedback.<id>` parts are
 * accepted and counted but not kept (binary attachments do not belong in Kafka; feedback is not a run).
 */
export function opsFromParts(parts: readonly MultipartPart[], maxDepth: number = DEFAULT_MAX_JSON_DEPTH): OpsResult {
  const issues: Issue[] = [];
  // Parts already reported: a field part without its run is reported only if the run's part is not.
  const reported = new Set<string>();
  const ops = new Map<string, PartsOfRun>();
  const sent = new Map<object, string>();
  let attachments = 0;
  let feedback = 0;
  // The SDKs send a run's parts one after the other: the previous part's run is checked and found once.
  let last: { kind: string; id: string; entry: PartsOfRun } | undefined;
  for (const part of parts) {
    // `<kind>.<id>[.<field>]`, read by hand: this runs for every part.
    const name = part.name;
    const dot = name.indexOf(".");
    const kind = dot < 0 ? name : name.slice(0, dot);
    if (kind === "attachment") {
      attachments++;
      continue;
    }
    if (kind === "feedback") {
      feedback++;
      continue;
    }
    if (kind !== "post" && kind !== "patch") {
      issues.push({
        part: name,
        path: "(name)",
        message: "unknown part: expected post.<run id>, patch.<run id>[.<field>], attachment.… or feedback.…",
      });
      reported.add(name);
      continue;
    }
    const dot2 = dot < 0 ? -1 : name.indexOf(".", dot + 1);
    const id = dot < 0 ? undefined : name.slice(dot + 1, dot2 < 0 ? undefined : dot2);
    const field = dot2 < 0 ? undefined : name.slice(dot2 + 1);
    const same = last !== undefined && last.kind === kind && last.id === id;
    if (!same && (id === undefined || !GUID.test(id))) {
      issues.push({ part: name, path: "id", message: "the part name must carry the run id (a UUID): post.<run id>" });
      continue;
    }
    if (field !== undefined && (field.includes(".") || !SPLIT_FIELDS.has(field))) {
      issues.push({
        part: name,
        path: "(name)",
        message: `unknown field part; the fields sent apart are ${[...SPLIT_FIELDS].join(", ")}`,
      });
      continue;
    }
    // Before any reader that recurses: JSON.parse does not, everything after it does.
    if (nestsDeeperThan(part.data, maxDepth)) {
      issues.push({ part: name, path: field ?? "(part)", message: tooDeepMessage(maxDepth) });
      reported.add(name);
      continue;
    }
    const parsed = parseJson(part.data);
    if (!parsed.ok) {
      issues.push({ part: name, path: field ?? "(part)", message: parsed.message });
      reported.add(name);
      continue;
    }
    let entry: PartsOfRun;
    if (same) {
      entry = last!.entry;
    } else {
      const runId = id.toLowerCase();
      const key = `${kind}.${runId}`;
      entry = ops.get(key) ?? { kind, id: runId, body: undefined, fields: [] };
      ops.set(key, entry);
      last = { kind, id, entry };
    }
    if (field === undefined) {
      if (entry.body !== undefined) {
        issues.push({ part: name, path: "(part)", message: "the same part appears twice" });
        reported.add(name);
      } else if (!isObject(parsed.value)) {
        issues.push({ part: name, path: "(part)", message: "must be a JSON object (the run)" });
        reported.add(name);
      } else {
        entry.body = parsed.value;
      }
    } else {
      entry.fields.push([field, parsed.value, name]);
      if (typeof parsed.value === "object" && parsed.value !== null) sent.set(parsed.value, parsed.text);
    }
  }
  const result: RunOp[] = [];
  for (const [key, entry] of ops) {
    if (entry.body === undefined) {
      // Reported only when the main part is not already reported as malformed.
      if (!reported.has(key)) {
        issues.push({
          part: entry.fields[0]?.[2] ?? key,
          path: "(part)",
          message: `no ${key} part for this field part`,
        });
      }
      continue;
    }
    // The body was parsed from this request: completing it in place copies nothing.
    const body = entry.body;
    for (const [field, value] of entry.fields) body[field] = value;
    result.push({ kind: entry.kind, id: entry.id, body, source: key });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, ops: result, ignored: { attachments, feedback }, sent };
}

/** The id a JSON body carries, checked: batch entries and `POST /runs` name their run by `id`. */
function idOf(body: JsonObject, source: string, issues: Issue[]): string | undefined {
  const id = body["id"];
  if (typeof id !== "string" || !GUID.test(id)) {
    issues.push({
      part: source,
      path: "id",
      message: id === undefined ? "required: the run id (a UUID)" : "must be a UUID (8-4-4-4-12 hex digits)",
    });
    return undefined;
  }
  return id.toLowerCase();
}

/**
 * Where a batch body nests too deep (it nests deeper than `maxDepth` + 2, the levels of the batch
 * itself): the entries whose run nests deeper than `maxDepth`, or the body when the depth is elsewhere.
 */
export function deepBatchIssues(body: unknown, maxDepth: number): Issue[] {
  const issues: Issue[] = [];
  if (isObject(body)) {
    for (const kind of ["post", "patch"] as const) {
      const list = body[kind];
      if (!Array.isArray(list)) continue;
      list.forEach((run: unknown, i) => {
        if (depthOf(run, maxDepth) > maxDepth)
          issues.push({ part: `${kind}[${i}]`, path: "(root)", message: tooDeepMessage(maxDepth) });
      });
    }
  }
  return issues.length > 0 ? issues : [{ part: "(body)", path: "(root)", message: tooDeepMessage(maxDepth) }];
}

/** `POST /runs/batch`: `{"post": [runs…], "patch": [runs…]}`, each run with its `id`. */
export function opsFromBatch(body: unknown): OpsResult {
  if (!isObject(body))
    return {
      ok: false,
      issues: [{ part: "(body)", path: "(root)", message: 'must be a JSON object {"post": [...], "patch": [...]}' }],
    };
  const issues: Issue[] = [];
  const ops: RunOp[] = [];
  for (const kind of ["post", "patch"] as const) {
    const list = body[kind];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      issues.push({ part: kind, path: "(root)", message: "must be an array of runs" });
      continue;
    }
    list.forEach((run: unknown, i) => {
      const source = `${kind}[${i}]`;
      if (!isObject(run)) {
        issues.push({ part: source, path: "(root)", message: "must be a JSON object (a run)" });
        return;
      }
      const id = idOf(run, source, issues);
      if (id !== undefined) ops.push({ kind, id, body: run, source });
    });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, ops, ignored: { attachments: 0, feedback: 0 }, sent: NO_SENT_JSON };
}

/** `POST /runs` (a create) or `PATCH /runs/:id` (an update of the run the URL names). */
export function opFromSingle(kind: OpKind, body: unknown, urlId?: string): OpsResult {
  const source = "(body)";
  if (!isObject(body))
    return { ok: false, issues: [{ part: source, path: "(root)", message: "must be a JSON object (a run)" }] };
  const issues: Issue[] = [];
  let id: string | undefined;
  if (urlId === undefined) {
    id = idOf(body, source, issues);
  } else if (!GUID.test(urlId)) {
    issues.push({ part: "(url)", path: "id", message: "the run id in the URL must be a UUID" });
  } else {
    id = urlId.toLowerCase();
  }
  if (id === undefined) return { ok: false, issues };
  return { ok: true, ops: [{ kind, id, body, source }], ignored: { attachments: 0, feedback: 0 }, sent: NO_SENT_JSON };
}

export function tooDeepMessage(max: number): string {
  return `nested deeper than ${max} levels of objects/arrays; the limit is ${max} (RUNHOOKS_INGEST_MAX_JSON_DEPTH): flatten the value or send it as a string`;
}
