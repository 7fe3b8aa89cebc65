import type { Admin } from "kafkajs";
import { checkpointsDecide, chooseGroupId, type GroupIdChoice, type GroupIdSettings } from "./group-id.js";

/** Whether `groupId` committed an offset (≥ 0) for any partition of `topic`. */
export async function hasCheckpoints(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  return offsets.some((t) => t.topic === topic && t.partitions.some((p) => Number(p.offset) >= 0));
}

/** The committed offsets of a group could not be read: the service cannot tell which group is its own. */
export class GroupLookupError extends Error {
  override readonly name = "GroupLookupError";
  constructor(
    readonly groupId: string,
    readonly variable: string,
    cause: unknown,
  ) {
    super(
      `could not read the committed offsets of consumer group ${groupId} (${String(cause)}): grant Describe on ` +
        `${groupId} (npm run infra -- acls), or set ${variable} to skip this lookup (docs/operating.md)`,
      { cause },
    );
  }
}

/**
 * hasCheckpoints, a failure thrown as a GroupLookupError naming the group: a lookup that failed is never
 * taken for "no checkpoints", which would start the service over from its topic's beginning.
 */
async function lookUp(admin: Admin, s: GroupIdSettings, groupId: string): Promise<boolean> {
  try {
    return await hasCheckpoints(admin, groupId, s.topic);
  } catch (error) {
    throw new GroupLookupError(groupId, s.variable, error);
  }
}

/** chooseGroupId with the committed offsets it needs (asked only when the variable is unset under another prefix). */
export async function resolveGroupId(admin: Admin, s: GroupIdSettings): Promise<GroupIdChoice> {
  if (!checkpointsDecide(s)) return chooseGroupId(s, { derived: false, legacy: false });
  const [derived, legacy] = await Promise.all([lookUp(admin, s, s.derived), lookUp(admin, s, s.legacy)]);
  return chooseGroupId(s, { derived, legacy });
}
