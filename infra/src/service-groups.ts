import { resolveDeliveryGroup } from "@runhooks/delivery";
import { resolveEvaluatorGroup } from "@runhooks/evaluator";
import { topicNames } from "@runhooks/kafka";
import type { Admin } from "kafkajs";

/** The consumer groups the evaluator and delivery join with this environment, resolved as they resolve them. */
export async function serviceGroups(
  admin: Admin,
  topicPrefix: string,
  env: NodeJS.ProcessEnv,
): Promise<{ readonly evaluator: string; readonly delivery: string }> {
  const topics = topicNames(topicPrefix);
  const [evaluator, delivery] = await Promise.all([
    resolveEvaluatorGroup(admin, {
      configured: env["RUNHOOKS_EVALUATOR_GROUP"] || undefined,
      topicPrefix,
      runsTopic: topics.runs,
    }),
    resolveDeliveryGroup(admin, {
      configured: env["RUNHOOKS_DELIVERY_GROUP"] || undefined,
      topicPrefix,
      windowsTopic: topics.windows,
    }),
  ]);
  return { evaluator: evaluator.groupId, delivery: delivery.groupId };
}
