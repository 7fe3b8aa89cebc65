import { SCHEMA_VERSION, type AttemptOutcome, type AttemptTrigger, type DeliveryAttempt } from "@runhooks/contracts";

export interface AttemptFacts {
  readonly deliveryId: string;
  readonly windowId: string;
  readonly ruleId: string;
  readonly webhookId: string;
  /** Redacted. */
  readonly url: string;
  readonly attempt: number;
  readonly trigger: AttemptTrigger;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly outcome: AttemptOutcome;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly responseExcerpt: string | null;
}

/** The `runhooks.attempts` message of an attempt (DeliveryAttempt contract), keyed by delivery id. */
export function attemptMessage(a: AttemptFacts): DeliveryAttempt {
  return {
    schema_version: SCHEMA_VERSION,
    delivery_id: a.deliveryId,
    window_id: a.windowId,
    rule_id: a.ruleId,
    webhook_id: a.webhookId,
    url: a.url,
    attempt: a.attempt,
    trigger: a.trigger,
    started_at: a.startedAt.toISOString(),
    duration_ms: a.durationMs,
    outcome: a.outcome,
    status_code: a.statusCode,
    error: a.error,
    response_excerpt: a.responseExcerpt,
  };
}
