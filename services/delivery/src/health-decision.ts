/**
 * A webhook's health after deliveries end (DESIGN.md §5). Pure; times are passed in (ms since the
 * epoch). A delivery — not an attempt — is the unit: one window that finally succeeded or failed.
 *
 * | state    | a delivery ends…  | next state                                                          |
 * |----------|-------------------|---------------------------------------------------------------------|
 * | healthy  | succeeded         | healthy (last success = now)                                         |
 * | healthy  | failed            | failing, 1 in a row, failing since now                               |
 * | failing  | failed            | failing, n + 1 in a row; disabled (event) once n + 1 ≥ the threshold |
 * |          |                   | and the last success (or, never, the first failure) is ≥ the span old |
 * | failing  | succeeded         | healthy, 0 in a row (`webhook.recovered`)                            |
 * | disabled | either            | disabled: only enabling it again (the API) leaves this state         |
 */

export type WebhookState = "healthy" | "failing" | "disabled";

export interface Health {
  readonly state: WebhookState;
  readonly consecutiveFailures: number;
  readonly failingSince: number | null;
  readonly lastSuccessAt: number | null;
  readonly lastFailureAt: number | null;
  readonly disabledAt: number | null;
}

export const NEW_HEALTH: Health = {
  state: "healthy",
  consecutiveFailures: 0,
  failingSince: null,
  lastSuccessAt: null,
  lastFailureAt: null,
  disabledAt: null,
};

export interface DisableThreshold {
  /** Failed deliveries in a row… */
  readonly failures: number;
  /** …and at least this long since the last success (ms). */
  readonly minSpanMs: number;
}

export type HealthChange =
  | { readonly kind: "disabled"; readonly consecutiveFailures: number; readonly lastSuccessAt: number | null }
  | { readonly kind: "recovered"; readonly afterFailures: number };

export function healthAfter(
  h: Health,
  ended: "succeeded" | "failed",
  at: number,
  t: DisableThreshold,
): { readonly health: Health; readonly change: HealthChange | undefined } {
  if (h.state === "disabled") {
    // Deliveries in flight when it was disabled still end: they are noted, the state stays.
    return {
      health: ended === "succeeded" ? { ...h, lastSuccessAt: at } : { ...h, lastFailureAt: at },
      change: undefined,
    };
  }
  if (ended === "succeeded") {
    const change: HealthChange | undefined =
      h.consecutiveFailures > 0 ? { kind: "recovered", afterFailures: h.consecutiveFailures } : undefined;
    return {
      health: { ...h, state: "healthy", consecutiveFailures: 0, failingSince: null, lastSuccessAt: at },
      change,
    };
  }
  const consecutiveFailures = h.consecutiveFailures + 1;
  const failingSince = h.failingSince ?? at;
  const since = h.lastSuccessAt ?? failingSince;
  if (consecutiveFailures >= t.failures && at - since >= t.minSpanMs) {
    return {
      health: { ...h, state: "disabled", consecutiveFailures, failingSince, lastFailureAt: at, disabledAt: at },
      change: { kind: "disabled", consecutiveFailures, lastSuccessAt: h.lastSuccessAt },
    };
  }
  return {
    health: { ...h, state: "failing", consecutiveFailures, failingSince, lastFailureAt: at },
    change: undefined,
  };
}
