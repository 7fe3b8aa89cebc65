/**
 * What a group member tells the leader, in its JoinGroup metadata's userData, of the partitions of
 * the topics it subscribes to: JSON `{"<topic>":[<partition id>,…]}`. A few bytes per topic, and
 * readable by any runhooks leader.
 */
export type PartitionReport = Readonly<Record<string, readonly number[]>>;

export function encodePartitionReport(report: PartitionReport): Buffer {
  return Buffer.from(JSON.stringify(report));
}

/**
 * The report in a member's userData, or undefined when it holds none: empty (a member that reports
 * nothing), or not a report (then the leader falls back to its own
 * metadata, as for a member that says nothing).
 */
export function decodePartitionReport(userData: Buffer | null | undefined): PartitionReport | undefined {
  if (userData == null || userData.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(userData.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const entries = Object.entries(parsed as Record<string, unknown>);
  const valid = entries.every(
    ([, ids]) => Array.isArray(ids) && ids.every((id) => Number.isSafeInteger(id) && (id as number) >= 0),
  );
  return valid ? (parsed as PartitionReport) : undefined;
}
