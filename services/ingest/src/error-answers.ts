import type { FastifyError } from "fastify";
import type { AcceptOutcome } from "./accept.js";
import { BodyError } from "./body.js";

/** Runs `acceptOps` did not accept, and why. */
export type Refusal = Extract<AcceptOutcome, { ok: false }>;

/** An error answer: its status, its `{error, message}` body, Retry-After, and what ingest logs about it. */
export interface Answer {
  readonly status: number;
  readonly body: { readonly error: string; readonly message: string; readonly [extra: string]: unknown };
  /** Sent as Retry-After: the same request may succeed then. */
  readonly retryAfterSeconds?: number;
  readonly log?: {
    readonly level: "warn" | "error";
    readonly message: string;
    readonly fields: Record<string, unknown>;
  };
}

/**
 * A retriable refusal (Kafka or Postgres did not answer) is 503 + Retry-After: nothing was accepted
 * and the same request may succeed later. The others are answered for what they are; a retry as is
 * would fail again. Pure.
 */
export function refusalAnswer(refusal: Refusal, tenantId: string, retryAfterSeconds: number): Answer {
  if (refusal.retriable) {
    return {
      status: 503,
      body: { error: refusal.reason, message: `${refusal.message}; nothing was accepted, retry later` },
      retryAfterSeconds,
      log: {
        level: "warn",
        message: "runs not accepted: a dependency is unavailable",
        fields: { reason: refusal.reason, error: refusal.detail },
      },
    };
  }
  switch (refusal.reason) {
    case "run_too_large":
      return {
        status: 413,
        body: {
          error: "run_too_large",
          message: refusal.issues.map((i) => `${i.part}: ${i.message}`).join("; "),
          issues: refusal.issues,
        },
      };
    case "pending_full":
      return {
        status: 429,
        body: {
          error: "too_many_pending_runs",
          message: `this tenant holds ${refusal.pending} incomplete runs (created without their end, or updated without their create); the limit is ${refusal.limit} (RUNHOOKS_INGEST_MAX_PENDING_PER_TENANT): send the ends of the runs started, or their creates, and nothing of this request was accepted`,
        },
        // Not retriable as is, but the tenant's other requests may make room: worth asking again then.
        retryAfterSeconds,
      };
    case "too_many_projects":
      return {
        status: 403,
        body: {
          error: "too_many_projects",
          message: `this tenant has ${refusal.count} projects; the limit is ${refusal.limit} (RUNHOOKS_INGEST_MAX_PROJECTS_PER_TENANT), and the runs of this request name projects beyond it: send them to existing projects (session_name); nothing of this request was accepted`,
        },
      };
    case "invalid_data":
      return {
        status: 400,
        body: {
          error: "invalid_data",
          message:
            "the store refused a run of this request as invalid data (for example a \\u0000 character in a string); nothing was accepted; fix the runs, a retry as is fails again",
        },
        log: {
          level: "warn",
          message: "Postgres refused the data of incomplete runs",
          fields: { tenantId, error: refusal.detail },
        },
      };
    case "internal":
      return {
        status: 500,
        body: { error: "internal", message: "internal error; see the ingest log" },
        log: { level: "error", message: "storing runs failed", fields: { tenantId, error: refusal.detail } },
      };
  }
}

/**
 * What reached Fastify's error handler: a refused body (BodyError) is answered with its status and
 * code; Fastify's own 4xx are the client's to fix; anything else is ours (500, logged). Pure.
 */
export function errorAnswer(
  error: FastifyError | BodyError,
  request: { readonly method: string; readonly route: string },
): Answer {
  if (error instanceof BodyError)
    return { status: error.statusCode, body: { error: error.code, message: error.message } };
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500)
    return { status, body: { error: status === 413 ? "body_too_large" : "invalid_request", message: error.message } };
  return {
    status: 500,
    body: { error: "internal", message: "internal error; see the ingest log" },
    log: {
      level: "error",
      message: "request failed",
      fields: { method: request.method, route: request.route, error: String(error), stack: error.stack },
    },
  };
}
