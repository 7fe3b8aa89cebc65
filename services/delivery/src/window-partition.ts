import type { Admin } from "kafkajs";
import type { Logger } from "@runhooks/telemetry";
import { assembleStep } from "@runhooks/rules";
import { startAssembly, type PartitionAssembly } from "./window-assembly.js";

export interface PartitionSources {
  readonly admin: Admin;
  readonly groupId: string;
  /** The windows topic. */
  readonly topic: string;
  /** The runs topic, whose partitions a window waits for. */
  readonly runsTopic: string;
  readonly log: Logger;
}

/** The runs topic's partition count, as a broker knows it now (a metadata request, not a cache). */
export async function runsPartitionCount(o: Pick<PartitionSources, "admin" | "runsTopic">): Promise<number> {
  const { topics } = await o.admin.fetchTopicMetadata({ topics: [o.runsTopic] });
  return topics.find((t) => t.name === o.runsTopic)?.partitions.length ?? 0;
}

/**
 * A newly assigned windows partition's assembly (DESIGN.md §5): 1. read the group's committed offset
 * and its checkpoint; 2. restore the assembly from them (window-assembly.ts); 3. count the runs
 * partitions before the first message is folded. The caller seeks when the assembly says so.
 */
export async function loadAssembly(
  o: PartitionSources,
  partition: number,
  firstOffset: number,
): Promise<PartitionAssembly> {
  // 1.
  const committed = (await o.admin.fetchOffsets({ groupId: o.groupId, topics: [o.topic] }))
    .flatMap((t) => t.partitions)
    .find((p) => p.partition === partition);
  // 2.
  const assembly = startAssembly(
    { offset: committed === undefined ? -1 : Number(committed.offset), metadata: committed?.metadata },
    firstOffset,
  );
  // 3. No window is open yet: this completes nothing.
  const partitions = await runsPartitionCount(o);
  assembleStep(assembly.state, { kind: "partitions", count: partitions });
  o.log("info", "windows partition assigned", {
    partition,
    from: assembly.from,
    seeking: assembly.phase === "seeking",
    floor: Number.isFinite(assembly.state.floor) ? new Date(assembly.state.floor).toISOString() : null,
    runsPartitions: assembly.state.partitions,
  });
  return assembly;
}
