import { describe, expect, it } from "vitest";
import { decide, LANGSMITH_POLICY } from "../src/policy.js";
import { failureKind } from "../src/sender.js";
import { outcomeOf } from "../src/attempt-result.js";

describe("errors before a response", () => {
  // [error code, outcome]: only a real failure to connect is a (retried) connect_error.
  const table: [string | undefined, string][] = [
    ["ECONNREFUSED", "connect_error"],
    ["ENOTFOUND", "connect_error"],
    ["EAI_AGAIN", "connect_error"],
    ["EHOSTUNREACH", "connect_error"],
    ["UND_ERR_CONNECT_TIMEOUT", "connect_error"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "connect_error"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "connect_error"],
    // Closed or reset before any response byte (the sender only asks before a status arrived).
    ["ECONNRESET", "connect_error"],
    ["UND_ERR_SOCKET", "connect_error"],
    // The endpoint answered, not in HTTP.
    ["HPE_INVALID_CONSTANT", "invalid_response"],
    ["HPE_INVALID_STATUS", "invalid_response"],
    ["UND_ERR_HEADERS_OVERFLOW", "invalid_response"],
    // Anything else: not a reason to believe a retry helps, and never silently a connect error.
    ["EMFILE", "request_failed"],
    ["UND_ERR_INVALID_ARG", "request_failed"],
    ["ERR_SOMETHING_NEW", "request_failed"],
    [undefined, "request_failed"],
  ];
  it.each(table)("%s is %s", (code, outcome) => {
    expect(failureKind(code)).toBe(outcome);
  });

  it("undici's parser error is invalid_response even without a code", () => {
    expect(failureKind(undefined, "HTTPParserError")).toBe("invalid_response");
  });

  it("retries only connect errors among them", () => {
    for (const kind of ["connect_error", "invalid_response", "request_failed"] as const) {
      const decision = decide(outcomeOf({ kind, error: "x" }), 1, 0, LANGSMITH_POLICY);
      expect(decision.kind).toBe(kind === "connect_error" ? "retry" : "failed");
    }
  });
});
