import { sql, type Queryable } from "@databases/pg";

/**
 * Purging old secrets from the rule history. A version's webhooks lose their URL, header values and
 * signing secret (each becomes `***`; ids and header names stay) once the version was superseded —
 * or, for a deleted rule, deleted — before `before`, and no delivery of it is still pending or in
 * flight and no backfill of it is pending or running. A purged version delivers nothing: `webhooksOfRuleVersion` answers it as unknown, so a
 * replay of its windows stores them without deliveries. The current version of a live rule is never
 * purged. Batched by id, so no lock is held for long; running it again purges what became eligible.
 */

const PURGED_WEBHOOKS = sql`(
  SELECT coalesce(jsonb_agg(jsonb_build_object(
    'id', w -> 'id',
    'url', '***',
    'headers', (SELECT coalesce(jsonb_object_agg(h.key, '***'), '{}'::jsonb) FROM jsonb_each(coalesce(w -> 'headers', '{}'::jsonb)) h)
  ) ORDER BY n), '[]'::jsonb)
  FROM jsonb_array_elements(rule -> 'webhooks') WITH ORDINALITY AS x(w, n))`;

/** Purges one batch of rule_events; returns how many versions it purged (0: nothing left). */
export async function purgeHistoryBatch(db: Queryable, before: Date, limit: number): Promise<number> {
  const rows = (await db.query(sql`
    WITH eligible AS (
      SELECT e.id FROM rule_events e
      WHERE e.secrets_purged_at IS NULL
        AND jsonb_array_length(e.rule -> 'webhooks') > 0
        AND (
          EXISTS (SELECT 1 FROM rule_events later
                  WHERE later.rule_id = e.rule_id AND later.version > e.version AND later.occurred_at < ${before})
          OR (e.type = 'deleted' AND e.occurred_at < ${before})
        )
        AND NOT EXISTS (SELECT 1 FROM deliveries d
                        WHERE d.rule_id = e.rule_id AND d.rule_version = e.version AND d.status IN ('pending', 'in_flight'))
        AND NOT EXISTS (SELECT 1 FROM backfills b
                        WHERE b.rule_id = e.rule_id AND b.rule_version = e.version AND b.state IN ('pending', 'running'))
      ORDER BY e.id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    UPDATE rule_events SET rule = jsonb_set(rule, '{webhooks}', ${PURGED_WEBHOOKS}), secrets_purged_at = now()
    WHERE id IN (SELECT id FROM eligible)
    RETURNING id`)) as unknown[];
  return rows.length;
}

/** The projection row of a rule deleted before `before` keeps its last webhooks: purged the same way. */
export async function purgeDeletedRules(db: Queryable, before: Date): Promise<number> {
  const rows = (await db.query(sql`
    UPDATE rules SET rule = jsonb_set(rule, '{webhooks}', ${PURGED_WEBHOOKS})
    WHERE deleted AND updated_at < ${before} AND rule -> 'webhooks' @? '$[*] ? (@.url != "***")'
    RETURNING rule_id`)) as unknown[];
  return rows.length;
}

export async function purgeHistorySecrets(
  db: Queryable,
  before: Date,
  options: { readonly batchSize?: number; readonly onProgress?: (purged: number) => void } = {},
): Promise<{ readonly versions: number; readonly deletedRules: number }> {
  let versions = 0;
  for (;;) {
    const n = await purgeHistoryBatch(db, before, options.batchSize ?? 500);
    versions += n;
    if (n > 0) options.onProgress?.(versions);
    if (n === 0) break;
  }
  return { versions, deletedRules: await purgeDeletedRules(db, before) };
}
