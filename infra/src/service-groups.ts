import { resolveDeliveryGroup } from "@runhooks/delivery";
import { resolveEvaluatorGroup } from "@runhooks/evaluator";
import { topicNames } from "@runhooks/kafka";
import type { Admin } from "kafkajs";
import type { InfraEnv } from "./env.js";

/**
 * The consumer groups the evaluator and delivery join with this environment, resolved as they resolve
 * them, from the parsed variables (which, as the services' own, refuse a group set but empty).
 */
export async function serviceGroups(
  admin: Admin,
  env: Pick<InfraEnv, "RUNHOOKS_TOPIC_PREFIX" | "RUNHOOKS_EVALUATOR_GROUP" | "RUNHOOKS_DELIVERY_GROUP">,
): Promise<{ readonly evaluator: string; readonly delivery: string }> {
  const topicPrefix = env.RUNHOOKS_TOPIC_PREFIX;
  const topics = topicNames(topicPrefix);
  const [evaluator, delivery] = await Promise.all([
    resolveEvaluatorGroup(admin, { configured: env.RUNHOOKS_EVALUATOR_GROUP, topicPrefix, runsTopic: topics.runs }),
    resolveDeliveryGroup(admin, { configured: env.RUNHOOKS_DELIVERY_GROUP, topicPrefix, windowsTopic: topics.windows }),
  ]);
  return { evaluator: evaluator.groupId, delivery: delivery.groupId };
}
