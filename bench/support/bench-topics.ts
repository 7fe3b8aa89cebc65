import { createKafka } from "@runhooks/kafka";

/**
 * Deletes a bench run's topics (every `prefix.*`, overrides included), best effort: left behind, a
 * run's few hundred MB pile up in the broker and slow later runs.
 */
export async function deleteBenchTopics(brokers: string[], prefix: string): Promise<void> {
  const admin = createKafka({ brokers, clientId: "bench-cleanup", logger: () => undefined }).admin();
  try {
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } catch {
    // Best effort: the figures are printed already.
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
