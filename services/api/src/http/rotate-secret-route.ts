import { randomBytes } from "node:crypto";
import { z } from "zod";
import { Id, toFieldIssues } from "@runhooks/contracts";
import { rotateSigningSecret, type Database, type RuleQuotas } from "@runhooks/db";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { etag } from "../rules/rule-view.js";
import { notFound, sendError, sendIssues } from "./errors.js";
import { sendSaveRefusal } from "./rule-refusals.js";

/** How long the old secret keeps signing by default: a day, for receivers to pick the new one up. */
export const DEFAULT_GRACE_SECONDS = 86_400;
/** The longest overlap: a week. */
export const MAX_GRACE_SECONDS = 7 * 86_400;

const Params = z.strictObject({ id: Id, webhook_id: Id });
const Body = z.strictObject({
  grace_seconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).default(DEFAULT_GRACE_SECONDS),
});

/** A new Standard Webhooks secret: 32 random bytes. */
const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

/**
 * `POST /rules/:id/webhooks/:webhook_id/rotate-secret {"grace_seconds"?}`: gives the webhook a new
 * signing secret, answered once and never shown again; the old one keeps signing alongside it for the
 * grace period (DESIGN.md §5). The rotation is a new version of the rule.
 */
export function registerRotateSecretRoute(app: FastifyInstance, db: Database, quotas: RuleQuotas): void {
  app.post(
    "/rules/:id/webhooks/:webhook_id/rotate-secret",
    async (request: FastifyRequest<{ Params: { id: string; webhook_id: string } }>, reply) => {
      const params = Params.safeParse(request.params);
      if (!params.success) return sendIssues(reply, "invalid_request", toFieldIssues(params.error));
      const body = Body.safeParse(request.body ?? {});
      if (!body.success) return sendIssues(reply, "invalid_request", toFieldIssues(body.error));
      const secret = newSecret();
      const now = new Date();
      const result = await rotateSigningSecret(db, {
        tenantId: request.tenantId,
        ruleId: params.data.id,
        webhookId: params.data.webhook_id,
        secret,
        graceSeconds: body.data.grace_seconds,
        now,
        quotas,
      });
      if (!result.ok) {
        if (result.reason === "not_found") return notFound(reply);
        if (result.reason === "webhook_not_found")
          return sendError(reply, 404, "not_found", `the rule has no webhook ${params.data.webhook_id}`);
        return sendSaveRefusal(reply, result, undefined);
      }
      const webhook = result.record.rule.webhooks.find((w) => w.id === params.data.webhook_id);
      return reply
        .header("etag", etag(result.record.version))
        .header("cache-control", "no-store")
        .send({
          rule_id: params.data.id,
          webhook_id: params.data.webhook_id,
          version: result.record.version,
          signing_secret: secret,
          previous_secret_expires_at: webhook?.previous_signing_secret?.until ?? null,
        });
    },
  );
}
