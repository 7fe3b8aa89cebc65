import { isRetriable } from "@runhooks/errors";
import type { FastifyError } from "fastify";
import { describe, expect, it } from "vitest";
import { RateLimitedError } from "../src/http/auth.js";
import { errorAnswer } from "../src/http/error-answer.js";

const fastifyError = (statusCode: number | undefined, message: string) =>
  Object.assign(new Error(message), { statusCode, code: "FST_ERR_X" }) as FastifyError;

describe("an error reaching the API's handler, answered", () => {
  it.each<[string, FastifyError, number, string, boolean]>([
    ["malformed JSON", fastifyError(400, "Unexpected token } in JSON"), 400, "invalid_request", false],
    ["a body too large", fastifyError(413, "Request body is too large"), 413, "body_too_large", false],
    [
      "a wrong content type",
      fastifyError(415, "Unsupported Media Type: text/plain"),
      415,
      "unsupported_media_type",
      false,
    ],
    ["another 4xx of Fastify's", fastifyError(405, "Method Not Allowed"), 405, "invalid_request", false],
    ["no status at all", fastifyError(undefined, "boom"), 500, "internal", true],
    ["a 5xx of Fastify's", fastifyError(503, "busy"), 500, "internal", true],
  ])("%s", (_name, error, status, code, unexpected) => {
    const answer = errorAnswer(error);
    expect([answer.status, answer.body.error, answer.retryAfterSeconds, answer.unexpected]).toEqual([
      status,
      code,
      undefined,
      unexpected,
    ]);
  });

  it("names the body in a 400's issues; says nothing of an internal error's text", () => {
    expect(errorAnswer(fastifyError(400, "Body cannot be empty")).body).toEqual({
      error: "invalid_request",
      message: "Body cannot be empty",
      issues: [{ path: "(body)", message: "Body cannot be empty" }],
    });
    expect(errorAnswer(fastifyError(415, "Unsupported Media Type")).body).toEqual({
      error: "unsupported_media_type",
      message: "Unsupported Media Type",
    });
    expect(errorAnswer(fastifyError(undefined, "secret detail")).body).toEqual({
      error: "internal",
      message: "internal error; see the API's log",
    });
  });

  it("answers a key over its rate 429 with its code, what to do, and Retry-After", () => {
    const error = new RateLimitedError(1_500, { ratePerSecond: 100, burst: 1_000 });
    expect(isRetriable(error)).toBe(true);
    expect(errorAnswer(error)).toEqual({
      status: 429,
      body: {
        error: "rate_limited",
        message:
          "this API key sent more than 100 requests per second (bursts of 1000); retry after 2 s (RUNHOOKS_API_RATE_PER_S, RUNHOOKS_API_RATE_BURST)",
      },
      retryAfterSeconds: 2,
      unexpected: false,
    });
  });
});
