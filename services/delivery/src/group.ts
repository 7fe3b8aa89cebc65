import { legacyGroup, prefixedGroup, resolveGroupId, type GroupIdChoice } from "@runhooks/kafka";
import type { Admin } from "kafkajs";

export const DELIVERY_GROUP_VARIABLE = "RUNHOOKS_DELIVERY_GROUP";

/** The delivery group under the default prefix (`runhooks-delivery`). */
export const DEFAULT_DELIVERY_GROUP = legacyGroup("delivery");

/** The delivery group when RUNHOOKS_DELIVERY_GROUP is unset: `<prefix>-delivery`. */
export function deliveryGroup(topicPrefix: string): string {
  return prefixedGroup(topicPrefix, "delivery");
}

export interface DeliveryGroupSettings {
  /** RUNHOOKS_DELIVERY_GROUP; undefined when unset. */
  readonly configured: string | undefined;
  readonly topicPrefix: string;
  readonly windowsTopic: string;
  /** Where an unset variable's checkpoints may be instead (default DEFAULT_DELIVERY_GROUP; tests name their own). */
  readonly legacy?: string;
}

/**
 * The windows consumer's group: the variable; unset, `<prefix>-delivery`, or `runhooks-delivery` while
 * only that group holds checkpoints of the windows topic (the choice's warning says so).
 */
export function resolveDeliveryGroup(admin: Admin, s: DeliveryGroupSettings): Promise<GroupIdChoice> {
  return resolveGroupId(admin, {
    variable: DELIVERY_GROUP_VARIABLE,
    configured: s.configured,
    derived: deliveryGroup(s.topicPrefix),
    legacy: s.legacy ?? DEFAULT_DELIVERY_GROUP,
    topic: s.windowsTopic,
  });
}
