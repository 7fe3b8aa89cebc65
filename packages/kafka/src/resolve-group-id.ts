import type { Admin } from "kafkajs";
import { checkpointsDecide, chooseGroupId, type GroupIdChoice, type GroupIdSettings } from "./group-id.js";

/** Whether `groupId` committed an offset (≥ 0) for any partition of `topic`. */
export async function hasCheckpoints(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  return offsets.some((t) => t.topic === topic && t.partitions.some((p) => Number(p.offset) >= 0));
}

/** chooseGroupId with the committed offsets it needs (asked only when the variable is unset under another prefix). */
export async function resolveGroupId(admin: Admin, s: GroupIdSettings): Promise<GroupIdChoice> {
  if (!checkpointsDecide(s)) return chooseGroupId(s, { derived: false, legacy: false });
  const [derived, legacy] = await Promise.all([
    hasCheckpoints(admin, s.derived, s.topic),
    hasCheckpoints(admin, s.legacy, s.topic),
  ]);
  return chooseGroupId(s, { derived, legacy });
}
