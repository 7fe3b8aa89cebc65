import { Id, redactUrl, redactWebhook, toFieldIssues } from "@runhooks/contracts";
import {
  disabledWebhooks,
  MAX_RECOVER_PER_CALL,
  endTestSend,
  queueTestSend,
  testSendAttempt,
  enableWebhook,
  getRule,
  recoverDeliveries,
  webhookHealthOfRule,
  type Database,
  type WebhookHealthRecord,
} from "@runhooks/db";
import type { FastifyPluginAsync } from "fastify";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { invalid, tenantGuard, type TenantOf } from "./route-guards.js";

export interface WebhooksRoutesOptions {
  readonly db: Database;
  /** The tenant a request acts for (from its API key); undefined answers 401. */
  readonly tenantOf: TenantOf;
  /** How long a test send waits for the delivery service's attempt; default 20 s. */
  readonly testSendWaitMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A sample window's body: LangSmith's payload with one run that says what it is. */
function samplePayload(tenantId: string, ruleId: string, now: number) {
  const end = new Date(now).toISOString();
  const start = new Date(now - 5000).toISOString();
  const runId = randomUUID();
  const run = {
    id: runId,
    trace_id: runId,
    name: "runhooks test send",
    run_type: "chain",
    status: "success",
    start_time: start,
    end_time: end,
    tenant_id: tenantId,
    inputs: { test: true },
    outputs: { message: "a sample window sent by POST /rules/:id/webhooks/:webhook_id/test" },
    extra: { metadata: { runhooks_test: true } },
    tags: ["runhooks-test"],
  };
  return { start, end, payload: JSON.stringify({ rule_id: ruleId, start_time: start, end_time: end, runs: [run] }) };
}

const Timestamp = z.iso.datetime({ offset: true, error: "must be an ISO-8601 timestamp, e.g. 2024-04-05T01:28:54Z" });
const RuleParams = z.strictObject({ id: Id });
const WebhookParams = z.strictObject({ id: Id, webhook_id: Id });
const RecoverBody = z
  .strictObject({
    since: Timestamp,
    until: Timestamp.optional(),
    rule_id: Id.optional(),
    webhook_id: Id.optional(),
    limit: z.number().int().min(1).max(MAX_RECOVER_PER_CALL).optional(),
  })
  .refine((b) => b.until === undefined || Date.parse(b.since) < Date.parse(b.until), {
    message: "must be after since",
    path: ["until"],
  });

function healthJson(h: WebhookHealthRecord | undefined) {
  return {
    state: h?.state ?? "healthy",
    consecutive_failures: h?.consecutiveFailures ?? 0,
    failing_since: h?.failingSince?.toISOString() ?? null,
    last_success_at: h?.lastSuccessAt?.toISOString() ?? null,
    last_failure_at: h?.lastFailureAt?.toISOString() ?? null,
    disabled_at: h?.disabledAt?.toISOString() ?? null,
  };
}

/**
 * Operating webhooks, as a fastify plugin mounted by `buildApp`:
 *
 * - `GET /rules/:id/webhooks` — the rule's webhooks (redacted) with their health
 * - `POST /rules/:id/webhooks/:webhook_id/enable` — a disabled webhook receives windows again
 * - `POST /rules/:id/webhooks/:webhook_id/test` — send a signed sample window now (through the delivery
 *   service, like any delivery) and answer with its first attempt
 * - `POST /deliveries/recover {since, until?, rule_id?, webhook_id?, limit?}` — queue failed and skipped
 *   deliveries again, oldest first, at most MAX_RECOVER_PER_CALL per call
 */
export function webhooksRoutes(options: WebhooksRoutesOptions): FastifyPluginAsync {
  const { db } = options;
  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  return async (app) => {
    const tenant = tenantGuard(options.tenantOf);

    app.get("/rules/:id/webhooks", async (request, reply) => {
      const tenantId = await tenant(request, reply);
      if (tenantId === undefined) return reply;
      const params = RuleParams.safeParse(request.params);
      if (!params.success) return invalid(reply, "path", toFieldIssues(params.error));
      const rule = await getRule(db, tenantId, params.data.id);
      if (!rule) return reply.code(404).send({ error: "not_found", message: "no such rule" });
      const health = new Map((await webhookHealthOfRule(db, tenantId, rule.rule.id)).map((h) => [h.webhookId, h]));
      return {
        rule_id: rule.rule.id,
        version: rule.version,
        webhooks: rule.rule.webhooks.map((w) => ({ ...redactWebhook(w), health: healthJson(health.get(w.id)) })),
      };
    });

    app.post("/rules/:id/webhooks/:webhook_id/enable", async (request, reply) => {
      const tenantId = await tenant(request, reply);
      if (tenantId === undefined) return reply;
      const params = WebhookParams.safeParse(request.params);
      if (!params.success) return invalid(reply, "path", toFieldIssues(params.error));
      const rule = await getRule(db, tenantId, params.data.id);
      if (!rule || !rule.rule.webhooks.some((w) => w.id === params.data.webhook_id))
        return reply.code(404).send({ error: "not_found", message: "no such webhook in the rule's current version" });
      const before = await enableWebhook(db, tenantId, params.data.id, params.data.webhook_id);
      return {
        rule_id: params.data.id,
        webhook_id: params.data.webhook_id,
        state: "healthy",
        was: before ?? "healthy",
        hint:
          before === "disabled"
            ? "windows that arrived while it was disabled are skipped deliveries: POST /deliveries/recover sends them"
            : undefined,
      };
    });

    app.post("/rules/:id/webhooks/:webhook_id/test", async (request, reply) => {
      const tenantId = await tenant(request, reply);
      if (tenantId === undefined) return reply;
      const params = WebhookParams.safeParse(request.params);
      if (!params.success) return invalid(reply, "path", toFieldIssues(params.error));
      const rule = await getRule(db, tenantId, params.data.id);
      const webhook = rule?.rule.webhooks.find((w) => w.id === params.data.webhook_id);
      if (!rule || !webhook)
        return reply.code(404).send({ error: "not_found", message: "no such webhook in the rule's current version" });
      // A disabled webhook is sent nothing, a test neither: its sample would wait as a skipped delivery.
      const disabled = await disabledWebhooks(db, [{ ruleId: rule.rule.id, webhookId: webhook.id }]);
      if (disabled.size > 0) {
        return reply.code(409).send({
          error: "webhook_disabled",
          message: `webhook ${webhook.id} is disabled: enable it first (POST /rules/${rule.rule.id}/webhooks/${webhook.id}/enable, or runhooks webhooks enable)`,
        });
      }
      const sample = samplePayload(tenantId, rule.rule.id, Date.now());
      const deliveryId = await queueTestSend(db, {
        tenantId,
        ruleId: rule.rule.id,
        ruleVersion: rule.version,
        webhookId: webhook.id,
        url: redactUrl(webhook.url),
        origin: new URL(webhook.url).origin,
        payload: sample.payload,
        startTime: sample.start,
        endTime: sample.end,
        runCount: 1,
      });
      const deadline = Date.now() + (options.testSendWaitMs ?? 20_000);
      for (;;) {
        const attempt = await testSendAttempt(db, tenantId, deliveryId);
        if (attempt) {
          await endTestSend(db, deliveryId);
          return {
            delivery_id: deliveryId,
            webhook_id: webhook.id,
            url: attempt.url,
            outcome: attempt.outcome,
            status_code: attempt.statusCode,
            duration_ms: attempt.durationMs,
            error: attempt.error,
            response_excerpt: attempt.responseExcerpt,
          };
        }
        if (Date.now() > deadline) {
          return reply.code(504).send({
            error: "no_attempt",
            message: "the delivery service made no attempt in time (is it running?); the sample stays queued",
            delivery_id: deliveryId,
          });
        }
        await sleep(100);
      }
    });

    app.post("/deliveries/recover", async (request, reply) => {
      const tenantId = await tenant(request, reply);
      if (tenantId === undefined) return reply;
      const body = RecoverBody.safeParse(request.body ?? {});
      if (!body.success) return invalid(reply, "body", toFieldIssues(body.error));
      const b = body.data;
      const result = await recoverDeliveries(db, tenantId, {
        since: new Date(b.since),
        until: b.until === undefined ? undefined : new Date(b.until),
        ruleId: b.rule_id,
        webhookId: b.webhook_id,
        limit: b.limit,
      });
      return reply.code(202).send({ queued: result.queued, more: result.more, max_per_call: MAX_RECOVER_PER_CALL });
    });
  };
}
