import { describe, expect, it } from "vitest";
import { isTransientResponseLog } from "@runhooks/kafka";

describe("isTransientResponseLog", () => {
  const response = (error: string) => ({ namespace: "Connection", broker: "127.0.0.1:9092", error });
  it.each([
    [
      "Response InitProducerId(key: 22, version: 1)",
      response("The coordinator is loading and hence can't process requests for this group"),
      true,
    ],
    ["Response GroupCoordinator(key: 10, version: 2)", response("The group coordinator is not available"), true],
    [
      "Response InitProducerId(key: 22, version: 1)",
      response("This is not the correct coordinator for this group"),
      true,
    ],
    [
      "Response Metadata(key: 3, version: 6)",
      response("There is no leader for this topic-partition as we are in the middle of a leadership election"),
      true,
    ],
    // Real problems stay errors.
    [
      "Response Produce(key: 0, version: 7)",
      response("The request included a message larger than the max message size the server will accept"),
      false,
    ],
    ["Response SaslAuthenticate(key: 36, version: 1)", response("Authentication failed"), false],
    [
      "Connection error: connect ECONNREFUSED 127.0.0.1:9092",
      { namespace: "Connection", error: "The coordinator is loading" },
      false,
    ],
    ["Response JoinGroup(key: 11, version: 5)", { namespace: "Consumer", error: "The coordinator is loading" }, false],
  ] as const)("%s — %o → %s", (message, fields, expected) => {
    expect(isTransientResponseLog(message, fields)).toBe(expected);
  });
});
