import { describe, expect, it } from "vitest";
import { KafkaJSError, KafkaJSNonRetriableError, KafkaJSProtocolError, KafkaJSSASLAuthenticationError } from "kafkajs";
import { crashVerdict } from "@runhooks/kafka";

/** A broker error as kafkajs decodes it from a response (type, code, retriable). */
const protocol = (type: string, code: number, retriable: boolean) =>
  new KafkaJSProtocolError({ message: `broker said ${type}`, type, code, retriable } as unknown as Error);
/** kafkajs' errors take a cause its type declarations do not list. */
type WithCause = new (e: Error | string, o: { cause: Error }) => Error;
/** How kafkajs' retrier hands a non-retriable error to the runner: wrapped, the original as cause. */
const bailed = (e: Error) => new (KafkaJSNonRetriableError as unknown as WithCause)(e, { cause: e });
const saslFailed = () =>
  new (KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error)("SASL SCRAM authentication failed");

describe("crashVerdict", () => {
  it.each([
    [
      "a rejoin that lost its generation, wrapped by the retrier",
      bailed(protocol("ILLEGAL_GENERATION", 22, false)),
      "ILLEGAL_GENERATION",
    ],
    ["an unknown member, wrapped", bailed(protocol("UNKNOWN_MEMBER_ID", 25, false)), "UNKNOWN_MEMBER_ID"],
    ["a rebalance in progress, bare", protocol("REBALANCE_IN_PROGRESS", 27, false), "REBALANCE_IN_PROGRESS"],
    [
      "a coordinator that moved, two wraps deep",
      bailed(bailed(protocol("NOT_COORDINATOR", 16, true))),
      "NOT_COORDINATOR",
    ],
  ])("%s → rejoin", (_case, error, cause) => {
    expect(crashVerdict(error)).toEqual({ kind: "rejoin", cause });
  });

  it.each([
    ["an authorization failure", bailed(protocol("TOPIC_AUTHORIZATION_FAILED", 29, false))],
    ["a group authorization failure", protocol("GROUP_AUTHORIZATION_FAILED", 30, false)],
    ["a SASL failure", saslFailed()],
    ["an error of the process itself", new TypeError("cannot read properties of undefined")],
    ["a plain kafkajs error", new KafkaJSError("something else")],
    ["not an error at all", "boom"],
    ["nothing", undefined],
  ])("%s → fatal", (_case, error) => {
    expect(crashVerdict(error)).toEqual({ kind: "fatal" });
  });

  it("stops following a cause chain that loops", () => {
    const a = new Error("a") as Error & { cause?: unknown };
    const b = new Error("b", { cause: a });
    a.cause = b;
    expect(crashVerdict(a)).toEqual({ kind: "fatal" });
  });
});
