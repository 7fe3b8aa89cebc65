import { sql, type Queryable } from "@databases/pg";
import type { StoredRule } from "./rule-records.js";
import type { SecretKeyring } from "./secret-cipher.js";
import { isSealedUnder, openRule, sealRule } from "./webhook-secrets.js";

/**
 * Re-sealing the stored webhooks under the keyring's current key: migration 014 seals plaintext rows
 * with it, a key rotation moves every value to the new key with it. A batch is a keyset page of one
 * table; each row is opened with any key of the keyring (or read as plaintext) and sealed again only
 * when some value is not under the current key, so running it twice changes nothing.
 */

export type ResealTable = "rules" | "rule_events";

export interface ResealBatch {
  /** The key to resume after; undefined when the table is done. */
  readonly next: string | undefined;
  readonly scanned: number;
  readonly resealed: number;
}

export async function resealBatch(
  db: Queryable,
  keyring: SecretKeyring,
  table: ResealTable,
  after: string | undefined,
  limit: number,
): Promise<ResealBatch> {
  const rows =
    table === "rules"
      ? ((await db.query(sql`
          SELECT rule_id::text AS k, rule FROM rules
          WHERE ${after === undefined ? sql`true` : sql`rule_id > ${after}::uuid`}
          ORDER BY rule_id LIMIT ${limit} FOR UPDATE`)) as { k: string; rule: StoredRule }[])
      : ((await db.query(sql`
          SELECT id::text AS k, rule FROM rule_events
          WHERE ${after === undefined ? sql`true` : sql`id > ${after}::bigint`}
          ORDER BY id LIMIT ${limit} FOR UPDATE`)) as { k: string; rule: StoredRule }[]);
  let resealed = 0;
  for (const row of rows) {
    if (row.rule.webhooks.every((w) => isSealedUnder(w, keyring.current.id))) continue;
    const json = JSON.stringify(sealRule(keyring, openRule(keyring, row.rule)));
    if (table === "rules") await db.query(sql`UPDATE rules SET rule = ${json}::jsonb WHERE rule_id = ${row.k}::uuid`);
    else await db.query(sql`UPDATE rule_events SET rule = ${json}::jsonb WHERE id = ${row.k}::bigint`);
    resealed++;
  }
  return { next: rows.length < limit ? undefined : rows.at(-1)?.k, scanned: rows.length, resealed };
}

/** Rows of rules and rule_events holding a webhook value that is neither sealed nor purged. */
export async function countPlaintextRows(db: Queryable): Promise<number> {
  const plaintext = sql`EXISTS (
    SELECT 1 FROM jsonb_array_elements(rule -> 'webhooks') w
    WHERE (left(w ->> 'url', 7) <> 'enc:v1:' AND w ->> 'url' <> '***')
       OR left(coalesce(w ->> 'signing_secret', 'enc:v1:'), 7) <> 'enc:v1:'
       OR left(coalesce(w -> 'previous_signing_secret' ->> 'secret', 'enc:v1:'), 7) <> 'enc:v1:'
       OR EXISTS (SELECT 1 FROM jsonb_each_text(coalesce(w -> 'headers', '{}'::jsonb)) h
                  WHERE left(h.value, 7) <> 'enc:v1:' AND h.value <> '***'))`;
  const rows = (await db.query(sql`
    SELECT (SELECT count(*) FROM rules WHERE ${plaintext}) + (SELECT count(*) FROM rule_events WHERE ${plaintext}) AS n`)) as {
    n: bigint | number | string;
  }[];
  return Number(rows[0]?.n ?? 0);
}

export interface ResealProgress {
  readonly table: ResealTable;
  readonly scanned: number;
  readonly resealed: number;
}

/** Every row of both tables, batch by batch, each batch in `run` (its own transaction, or the caller's). */
export async function resealAll(
  run: <T>(work: (q: Queryable) => Promise<T>) => Promise<T>,
  keyring: SecretKeyring,
  options: { readonly batchSize?: number; readonly onProgress?: (p: ResealProgress) => void } = {},
): Promise<{ readonly scanned: number; readonly resealed: number }> {
  let scanned = 0;
  let resealed = 0;
  for (const table of ["rules", "rule_events"] as const) {
    let after: string | undefined;
    let tableScanned = 0;
    let tableResealed = 0;
    do {
      const batch = await run((q) => resealBatch(q, keyring, table, after, options.batchSize ?? 500));
      after = batch.next;
      tableScanned += batch.scanned;
      tableResealed += batch.resealed;
      options.onProgress?.({ table, scanned: tableScanned, resealed: tableResealed });
    } while (after !== undefined);
    scanned += tableScanned;
    resealed += tableResealed;
  }
  return { scanned, resealed };
}
