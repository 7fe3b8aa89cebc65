import { isRetriable } from "@runhooks/errors";
import type { FastifyError } from "fastify";
import { describe, expect, it } from "vitest";
import { BodyError } from "../src/body.js";
import { errorAnswer, refusalAnswer, type Refusal } from "../src/error-answers.js";
import { KafkaUnavailableError } from "../src/producer.js";

const issue = { part: "post[0]", path: "(run)", message: "the run is 2000000 bytes; the limit is 1000000" };

describe("a refusal of runs, answered", () => {
  it.each<[string, Refusal, number, string, number | undefined, "warn" | "error" | undefined]>([
    [
      "Kafka did not acknowledge: retry later",
      {
        ok: false,
        reason: "kafka_unavailable",
        message: "Kafka did not acknowledge the runs",
        detail: "timeout",
        retriable: true,
      },
      503,
      "kafka_unavailable",
      7,
      "warn",
    ],
    [
      "Postgres did not answer: retry later",
      {
        ok: false,
        reason: "database_unavailable",
        message: "Postgres did not store the incomplete runs",
        detail: "ECONNREFUSED",
        retriable: true,
      },
      503,
      "database_unavailable",
      7,
      "warn",
    ],
    [
      "a run over the limit",
      { ok: false, reason: "run_too_large", issues: [issue], retriable: false },
      413,
      "run_too_large",
      undefined,
      undefined,
    ],
    [
      "too many incomplete runs held",
      { ok: false, reason: "pending_full", pending: 10, limit: 10, retriable: false },
      429,
      "too_many_pending_runs",
      7,
      undefined,
    ],
    [
      "data the store refuses",
      { ok: false, reason: "invalid_data", detail: "invalid byte sequence", retriable: false },
      400,
      "invalid_data",
      undefined,
      "warn",
    ],
    [
      "our own failure",
      { ok: false, reason: "internal", detail: "TypeError: x is undefined", retriable: false },
      500,
      "internal",
      undefined,
      "error",
    ],
  ])("%s", (_name, refusal, status, error, retryAfterSeconds, logLevel) => {
    const answer = refusalAnswer(refusal, "tenant-1", 7);
    expect([answer.status, answer.body.error, answer.retryAfterSeconds, answer.log?.level]).toEqual([
      status,
      error,
      retryAfterSeconds,
      logLevel,
    ]);
  });

  it("says a retriable refusal accepted nothing and may be sent again", () => {
    const answer = refusalAnswer(
      {
        ok: false,
        reason: "kafka_unavailable",
        message: "Kafka did not acknowledge the runs",
        detail: "timeout",
        retriable: true,
      },
      "t",
      7,
    );
    expect(answer.body).toEqual({
      error: "kafka_unavailable",
      message: "Kafka did not acknowledge the runs; nothing was accepted, retry later",
    });
    expect(answer.log?.fields).toEqual({ reason: "kafka_unavailable", error: "timeout" });
  });

  it("lists the oversized runs, and logs data refusals with their tenant", () => {
    expect(
      refusalAnswer({ ok: false, reason: "run_too_large", issues: [issue], retriable: false }, "t", 7).body,
    ).toEqual({
      error: "run_too_large",
      message: "post[0]: the run is 2000000 bytes; the limit is 1000000",
      issues: [issue],
    });
    expect(
      refusalAnswer({ ok: false, reason: "invalid_data", detail: "bad", retriable: false }, "tenant-1", 7).log?.fields,
    ).toEqual({ tenantId: "tenant-1", error: "bad" });
  });

  it("agrees with the error it comes from: Kafka unavailable is retriable", () => {
    expect(isRetriable(new KafkaUnavailableError("Kafka did not acknowledge within 5000 ms"))).toBe(true);
    expect(isRetriable(new BodyError(413, "body_too_large", "too large"))).toBe(false);
  });
});

const fastifyError = (statusCode: number | undefined, message: string) =>
  Object.assign(new Error(message), { statusCode, code: "FST_ERR_X" }) as FastifyError;
const request = { method: "POST", route: "/runs/batch" };

describe("an error reaching the handler, answered", () => {
  it.each<[string, FastifyError | BodyError, number, string, string, boolean]>([
    [
      "a body over the limit",
      new BodyError(413, "body_too_large", "the body is larger than 10 bytes as sent; send smaller batches"),
      413,
      "body_too_large",
      "the body is larger than 10 bytes as sent; send smaller batches",
      false,
    ],
    [
      "an encoding ingest cannot undo",
      new BodyError(415, "unsupported_encoding", "Content-Encoding zstd is not supported"),
      415,
      "unsupported_encoding",
      "Content-Encoding zstd is not supported",
      false,
    ],
    [
      "a body that does not inflate",
      new BodyError(400, "invalid_body", "the gzip body is corrupt"),
      400,
      "invalid_body",
      "the gzip body is corrupt",
      false,
    ],
    [
      "Fastify's own 413",
      fastifyError(413, "Request body is too large"),
      413,
      "body_too_large",
      "Request body is too large",
      false,
    ],
    [
      "Fastify's own 400",
      fastifyError(400, "Body cannot be empty"),
      400,
      "invalid_request",
      "Body cannot be empty",
      false,
    ],
    ["anything else", fastifyError(undefined, "boom"), 500, "internal", "internal error; see the ingest log", true],
    ["a 5xx of Fastify's", fastifyError(503, "busy"), 500, "internal", "internal error; see the ingest log", true],
  ])("%s", (_name, error, status, code, message, logged) => {
    const answer = errorAnswer(error, request);
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ error: code, message });
    expect(answer.retryAfterSeconds).toBeUndefined();
    expect(answer.log !== undefined).toBe(logged);
  });

  it("logs an unexpected error with its route and stack", () => {
    const error = fastifyError(undefined, "boom");
    expect(errorAnswer(error, request).log).toEqual({
      level: "error",
      message: "request failed",
      fields: { method: "POST", route: "/runs/batch", error: "Error: boom", stack: error.stack },
    });
  });
});
