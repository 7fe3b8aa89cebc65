/**
 * The names LangSmith's filter language knows, and what runhooks reads for each. Fields are the run's
 * own (`run_type` is `{"var": "run_type"}`); `latency` is the derived fact, in seconds.
 */
export type FieldKind = "text" | "number" | "latency" | "time" | "bool" | "tags";

export interface Field {
  readonly kind: FieldKind;
  /** The `var` path it reads. */
  readonly path: string;
}

const field = (kind: FieldKind, path: string): Field => ({ kind, path });

export const FIELDS: Readonly<Record<string, Field>> = {
  id: field("text", "id"),
  name: field("text", "name"),
  run_type: field("text", "run_type"),
  status: field("text", "status"),
  error: field("text", "error"),
  trace_id: field("text", "trace_id"),
  parent_run_id: field("text", "parent_run_id"),
  session_id: field("text", "session_id"),
  start_time: field("time", "start_time"),
  end_time: field("time", "end_time"),
  latency: field("latency", "latency"),
  total_tokens: field("number", "total_tokens"),
  prompt_tokens: field("number", "prompt_tokens"),
  completion_tokens: field("number", "completion_tokens"),
  total_cost: field("number", "total_cost"),
  tags: field("tags", "tags"),
  is_root: field("bool", "is_root"),
};

/**
 * An object whose key/value entries are searched: metadata (`extra.metadata`) one level of nesting
 * deep (`a` and `a.b`), inputs and outputs at any depth (`messages.content`).
 */
export interface EntrySource {
  /** The `var` path of the object. */
  readonly path: string;
  /** Key levels searched; undefined: all. */
  readonly depth?: number;
}

export type EntryFamily = "metadata" | "input" | "output";

export const ENTRY_SOURCES: Readonly<Record<EntryFamily, EntrySource>> = {
  metadata: { path: "metadata", depth: 2 },
  input: { path: "inputs" },
  output: { path: "outputs" },
};

export interface EntryField {
  readonly family: EntryFamily;
  readonly side: "key" | "value";
}

export const ENTRY_FIELDS: Readonly<Record<string, EntryField>> = {
  metadata_key: { family: "metadata", side: "key" },
  metadata_value: { family: "metadata", side: "value" },
  input_key: { family: "input", side: "key" },
  input_value: { family: "input", side: "value" },
  output_key: { family: "output", side: "key" },
  output_value: { family: "output", side: "value" },
};

/** The objects `has`, `exists` and `search` take by name. */
export const OBJECTS: Readonly<Record<string, EntryFamily>> = {
  metadata: "metadata",
  inputs: "input",
  outputs: "output",
};

/** Fields LangSmith has that runhooks cannot filter on, and why. */
export const REFUSED_FIELDS: Readonly<Record<string, string>> = {
  feedback_key:
    "feedback is not supported yet: runhooks does not receive feedback, so feedback_key and feedback_score cannot be filtered on",
  feedback_score:
    "feedback is not supported yet: runhooks does not receive feedback, so feedback_key and feedback_score cannot be filtered on",
};

export const FUNCTIONS = [
  "and",
  "or",
  "not",
  "eq",
  "neq",
  "gt",
  "gte",
  "lt",
  "lte",
  "has",
  "search",
  "in",
  "like",
  "exists",
] as const;

/** For messages: every name a field may be. */
export const FIELD_NAMES = [...Object.keys(FIELDS), ...Object.keys(ENTRY_FIELDS)].join(", ");
