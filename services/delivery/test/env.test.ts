import { describe, expect, it } from "vitest";
import { DEFAULT_DELIVERY_GROUP, deliveryGroup, deliveryOptionsFromEnv, readDeliveryEnv } from "@runhooks/delivery";

const base = {
  KAFKA_BROKERS: "127.0.0.1:9092",
  DATABASE_URL: "postgres://runhooks@127.0.0.1:5432/runhooks",
  RUNHOOKS_SECRETS_KEY: "Xl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl5eXl4",
};
const options = (extra: Record<string, string>) =>
  deliveryOptionsFromEnv(readDeliveryEnv({ ...base, ...extra }), () => undefined);

describe("delivery configuration", () => {
  it.each([
    [{}, true],
    [{ RUNHOOKS_DELIVERY_HTTP_THREAD: "" }, true],
    [{ RUNHOOKS_DELIVERY_HTTP_THREAD: "false" }, false],
    [{ RUNHOOKS_DELIVERY_HTTP_THREAD: "0" }, false],
    [{ RUNHOOKS_DELIVERY_HTTP_THREAD: "true" }, true],
  ])("sends from the HTTP thread unless told not to: %j → %s", (extra, expected) => {
    expect(options(extra).httpThread).toBe(expected);
  });

  it("keeps the SSRF guard on by default, also when the setting is blank", () => {
    expect(options({}).allowPrivate).toBe(false);
    expect(options({ RUNHOOKS_DELIVERY_ALLOW_PRIVATE: "" }).allowPrivate).toBe(false);
    expect(options({ RUNHOOKS_DELIVERY_ALLOW_PRIVATE: "1" }).allowPrivate).toBe(true);
  });

  it("leaves the group to the prefix when RUNHOOKS_DELIVERY_GROUP is unset, and takes it when set", () => {
    const unset = options({ RUNHOOKS_TOPIC_PREFIX: "staging" });
    expect(unset.groupId).toBeUndefined();
    expect(deliveryGroup(unset.topicPrefix)).toBe("staging-delivery");
    // The default prefix keeps the default group's name.
    expect(deliveryGroup(options({}).topicPrefix)).toBe("runhooks-delivery");
    expect(DEFAULT_DELIVERY_GROUP).toBe("runhooks-delivery");
    expect(options({ RUNHOOKS_TOPIC_PREFIX: "staging", RUNHOOKS_DELIVERY_GROUP: "shared" }).groupId).toBe("shared");
  });

  it("names the setting it cannot read", () => {
    expect(() => readDeliveryEnv({ ...base, RUNHOOKS_DELIVERY_HTTP_THREAD: "yes" })).toThrow(
      /RUNHOOKS_DELIVERY_HTTP_THREAD/,
    );
  });
});
