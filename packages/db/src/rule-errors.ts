import { sql, type Queryable } from "@databases/pg";
import type { RuleError } from "@runhooks/contracts";

/**
 * Rule errors as the tenant sees them (migration `007_rule_errors`): the evaluator's records from the
 * rule-errors topic, stored once per (rule_id, rule_version, run_id).
 */

/** Stores records from the rule-errors topic; a record already stored (a re-publication) is ignored. */
export async function recordRuleErrors(db: Queryable, records: readonly RuleError[]): Promise<number> {
  if (records.length === 0) return 0;
  const rows = (await db.query(sql`
    INSERT INTO rule_errors (rule_id, rule_version, run_id, tenant_id, log_time, error, count)
    SELECT * FROM unnest(
      ${records.map((r) => r.rule_id)}::uuid[], ${records.map((r) => r.rule_version)}::int[],
      ${records.map((r) => r.run_id)}::uuid[], ${records.map((r) => r.tenant_id)}::uuid[],
      ${records.map((r) => r.log_time)}::timestamptz[], ${records.map((r) => r.error)}::text[],
      ${records.map((r) => r.count)}::int[])
    ON CONFLICT (rule_id, rule_version, run_id) DO NOTHING
    RETURNING 1`)) as unknown[];
  return rows.length;
}

export interface RuleErrorVersionCount {
  readonly ruleVersion: number;
  /** Runs the version could not judge. */
  readonly errors: number;
  readonly firstAt: Date;
  readonly lastAt: Date;
}

export interface RuleErrorSample {
  readonly ruleVersion: number;
  readonly runId: string;
  readonly logTime: Date;
  readonly error: string;
  /** Errors of the flush this sample stands for. */
  readonly count: number;
}

export interface RuleErrorSummary {
  readonly versions: readonly RuleErrorVersionCount[];
  /** The latest samples, newest first. */
  readonly samples: readonly RuleErrorSample[];
}

/**
 * A rule's errors for its tenant: counts per version and the latest `limit` samples; undefined when the
 * rule never existed or is another tenant's (a deleted rule's errors stay readable).
 */
export async function ruleErrorSummary(
  db: Queryable,
  tenantId: string,
  ruleId: string,
  limit: number,
): Promise<RuleErrorSummary | undefined> {
  const owner = (await db.query(
    sql`SELECT 1 FROM rules WHERE rule_id = ${ruleId} AND tenant_id = ${tenantId}`,
  )) as unknown[];
  if (owner.length === 0) return undefined;
  const versions = (await db.query(sql`
    SELECT rule_version, sum(count)::bigint AS errors, min(log_time) AS first_at, max(log_time) AS last_at
    FROM rule_errors WHERE rule_id = ${ruleId} AND tenant_id = ${tenantId}
    GROUP BY rule_version ORDER BY rule_version`)) as {
    rule_version: number;
    errors: string;
    first_at: Date;
    last_at: Date;
  }[];
  const samples = (await db.query(sql`
    SELECT rule_version, run_id, log_time, error, count FROM rule_errors
    WHERE rule_id = ${ruleId} AND tenant_id = ${tenantId}
    ORDER BY log_time DESC, run_id LIMIT ${limit}`)) as {
    rule_version: number;
    run_id: string;
    log_time: Date;
    error: string;
    count: number;
  }[];
  return {
    versions: versions.map((v) => ({
      ruleVersion: v.rule_version,
      errors: Number(v.errors),
      firstAt: v.first_at,
      lastAt: v.last_at,
    })),
    samples: samples.map((s) => ({
      ruleVersion: s.rule_version,
      runId: s.run_id,
      logTime: s.log_time,
      error: s.error,
      count: s.count,
    })),
  };
}
