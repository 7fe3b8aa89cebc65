import { RunhooksError, errorCode, exitCodeOf, isRetriable } from "@runhooks/errors";
import { describe, expect, it } from "vitest";

class Unavailable extends RunhooksError {
  readonly code = "dependency_unavailable";
  readonly retriable = true;
}

class Usage extends RunhooksError {
  readonly code = "usage";
  readonly retriable = false;
}

class Coded extends RunhooksError {
  readonly retriable = false;
  constructor(
    readonly code: "a_failure" | "b_failure",
    message: string,
  ) {
    super(message);
  }
}

/** What kafkajs throws: its own class, carrying `retriable` with the same meaning. */
class KafkaLikeError extends Error {
  constructor(readonly retriable: boolean) {
    super("broker said no");
  }
}

const nodeError = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });

describe("the error vocabulary", () => {
  it.each<[string, unknown, boolean, string | undefined, 1 | 2]>([
    ["a retriable runhooks error", new Unavailable("Kafka did not answer"), true, "dependency_unavailable", 1],
    ["a usage error", new Usage("unknown service x"), false, "usage", 2],
    ["a code chosen per instance", new Coded("b_failure", "b failed"), false, "b_failure", 1],
    ["a kafkajs error that may be retried", new KafkaLikeError(true), true, undefined, 1],
    ["a kafkajs error that may not", new KafkaLikeError(false), false, undefined, 1],
    ["a Node error: its code is Node's, not ours", nodeError, false, undefined, 1],
    ["a plain Error", new Error("boom"), false, undefined, 1],
    ["retriable only when it is exactly true", { retriable: "yes" }, false, undefined, 1],
    ["a usage code on something that is not ours", { code: "usage" }, false, undefined, 1],
    ["a string", "boom", false, undefined, 1],
    ["null", null, false, undefined, 1],
    ["undefined", undefined, false, undefined, 1],
  ])("%s", (_name, error, retriable, code, exitCode) => {
    expect(isRetriable(error)).toBe(retriable);
    expect(errorCode(error)).toBe(code);
    expect(exitCodeOf(error)).toBe(exitCode);
  });

  it("keeps what Error gives: message, cause, a stack, instanceof", () => {
    const cause = new Error("socket closed");
    const error = new Unavailable("Kafka did not answer", { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(RunhooksError);
    expect(error.message).toBe("Kafka did not answer");
    expect(error.cause).toBe(cause);
    expect(error.stack).toContain("Kafka did not answer");
  });
});
