import { describe, expect, it } from "vitest";
import { ForeignBatchError, foreignBatchRefusal, refuseForeignBatch } from "@runhooks/kafka";

const check = (batchTopic: string) => ({
  batchTopic,
  topic: "blue.windows",
  groupId: "runhooks-delivery",
  variable: "RUNHOOKS_DELIVERY_GROUP",
});

describe("a batch of another topic", () => {
  it("is the consumer's own: no refusal", () => {
    expect(foreignBatchRefusal(check("blue.windows"))).toBeUndefined();
  });

  it("is refused naming the topic, the group and the variable to set", () => {
    const refusal = foreignBatchRefusal(check("green.windows"));
    expect(refusal).toContain("green.windows");
    expect(refusal).toContain("group runhooks-delivery");
    expect(refusal).toContain("reads blue.windows only");
    expect(refusal).toContain("RUNHOOKS_DELIVERY_GROUP");
  });

  it("is logged as an error and thrown; the consumer's own is let through silently", () => {
    const logged: unknown[][] = [];
    const log = (...line: unknown[]) => void logged.push(line);
    expect(() => refuseForeignBatch(check("green.windows"), log)).toThrow(ForeignBatchError);
    expect(logged).toEqual([
      [
        "error",
        foreignBatchRefusal(check("green.windows")),
        {
          topic: "green.windows",
          subscribed: "blue.windows",
          groupId: "runhooks-delivery",
          variable: "RUNHOOKS_DELIVERY_GROUP",
        },
      ],
    ]);
    refuseForeignBatch(check("blue.windows"), log);
    expect(logged).toHaveLength(1);
  });
});
