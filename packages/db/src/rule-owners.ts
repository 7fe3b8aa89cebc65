import { sql, type Queryable } from "@databases/pg";

/** Who owns a rule and how far its versions go: versions are 1 … `latest`, each appended once. */
export interface RuleOwner {
  readonly tenantId: string;
  readonly latest: number;
}

/**
 * The owner and latest version of each of these rules that exists (deleted ones included: their
 * history stays), for delivery to check the windows it reads against the rule store. Ids that are not
 * UUIDs find nothing.
 */
export async function ruleOwners(db: Queryable, ruleIds: readonly string[]): Promise<Map<string, RuleOwner>> {
  const ids = ruleIds.filter((id) => UUID.test(id));
  const out = new Map<string, RuleOwner>();
  if (ids.length === 0) return out;
  const rows = (await db.query(sql`
    SELECT rule_id, tenant_id, max(version) AS latest FROM rule_events
    WHERE rule_id = ANY(${ids}::uuid[])
    GROUP BY rule_id, tenant_id`)) as { rule_id: string; tenant_id: string; latest: number }[];
  for (const r of rows) out.set(r.rule_id, { tenantId: r.tenant_id, latest: Number(r.latest) });
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
