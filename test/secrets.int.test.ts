import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { buildApp } from "@runhooks/api";
import { createApiKey, sql, webhooksOfRuleVersion } from "@runhooks/db";
import {
  createDeliveryHarness,
  eventually,
  newSecret,
  type DeliveryHarness,
} from "../services/delivery/test/harness.js";
import { freePort, startReceiver, type Receiver } from "../services/delivery/test/receiver.js";

describe("secrets never leave Postgres", () => {
  let h: DeliveryHarness | undefined;
  const receivers: Receiver[] = [];
  afterAll(async () => {
    await h?.close();
    for (const r of receivers) await r.close();
  });

  it("no secret query value, path token, header value or signing secret in logs, attempt rows, API responses or Kafka", async () => {
    h = await createDeliveryHarness("secrets");
    const querySecret = `qs${randomBytes(12).toString("hex")}`;
    const headerValue = `hv${randomBytes(12).toString("hex")}`;
    const signingSecret = newSecret();
    // A token in the path, as Slack and Discord put theirs.
    const pathToken = `pt${randomBytes(12).toString("hex")}`;
    const needles = [querySecret, headerValue, signingSecret, signingSecret.slice("whsec_".length), pathToken];

    // An endpoint that echoes what it got — URL and headers — in its body: first as a 500, then a 200.
    const echo = await startReceiver((r, _n, res) => {
      res
        .writeHead(r.attempt === 1 ? 500 : 200, { "content-type": "application/json" })
        .end(JSON.stringify({ url: r.url, headers: r.headers }));
    });
    receivers.push(echo);
    const refused = await freePort();
    const rule = await h.createRule([
      {
        url: `${echo.url}/echo/${pathToken}?secret=${querySecret}&team=ml`,
        headers: { "x-api-key": headerValue },
        signing_secret: signingSecret,
      },
      {
        url: `http://127.0.0.1:${refused}/down?token=${querySecret}`,
        headers: { authorization: `Bearer ${headerValue}` },
      },
      // Only 127.0.0.1 is allowed: the IPv6 loopback is refused by the SSRF guard.
      { url: `http://[::1]:${echo.port}/blocked?api_key=${querySecret}`, headers: { "x-api-key": headerValue } },
    ]);
    // Everything logged, debug level included.
    await h.start({
      log: (level, message, fields) => h!.logs.push(JSON.stringify({ level, message, ...fields })),
      allowCidrs: ["127.0.0.1/32"],
    });
    const windows = await h.publishWindows(rule, 2);
    await eventually("every delivery to finish", async () => {
      const rows = await h!.deliveries();
      return rows.length === 6 && rows.every((r) => r.status === "succeeded" || r.status === "failed");
    });

    // The secrets were really in play: the endpoint got them, and the store holds them, sealed only.
    expect(
      echo.received.some(
        (r) => r.url.includes(querySecret) && r.url.includes(pathToken) && r.headers["x-api-key"] === headerValue,
      ),
    ).toBe(true);
    const stored = JSON.stringify(await h.db.query(sql`SELECT rule FROM rule_events WHERE rule_id = ${rule.ruleId}`));
    for (const n of [...needles, pathToken]) expect(stored).not.toContain(n);
    const opened = JSON.stringify(await webhooksOfRuleVersion(h.db, rule.ruleId, rule.version));
    for (const n of [...needles.slice(0, 3), pathToken]) expect(opened).toContain(n);

    const attemptRows = await h.attempts();
    expect(attemptRows.map((a) => a.outcome).sort()).toEqual(
      [
        "connect_error",
        "connect_error",
        "connect_error",
        "connect_error",
        "connect_error",
        "connect_error",
        "http_5xx",
        "http_5xx",
        "ssrf_blocked",
        "ssrf_blocked",
        "success",
        "success",
      ].sort(),
    );
    // The echoed body was recorded, scrubbed.
    const excerpts = attemptRows.map((a) => a.response_excerpt ?? "").join("\n");
    expect(excerpts).toContain("/echo/***?secret=***");
    expect(excerpts).toContain('"x-api-key":"***"');

    const deliveryRows = await h.db.query(sql`SELECT * FROM deliveries`);
    const app = buildApp({ db: h.db });
    const headers = { "x-api-key": (await createApiKey(h.db, h.tenantId, "secrets"))!.key };
    const api: string[] = [(await app.inject({ method: "GET", url: "/deliveries", headers })).body];
    for (const d of await h.deliveries()) {
      api.push((await app.inject({ method: "GET", url: `/deliveries/${d.id}`, headers })).body);
    }
    const failed = (await h.deliveries()).find((d) => d.status === "failed")!;
    api.push((await app.inject({ method: "POST", url: `/deliveries/${failed.id}/redeliver`, headers })).body);
    api.push(
      (
        await app.inject({
          method: "POST",
          url: `/rules/${rule.ruleId}/replay`,
          headers,
          payload: { from: windows[0]!.start_time, to: new Date().toISOString() },
        })
      ).body,
    );
    await app.close();
    const messages = await h.attemptMessages(attemptRows.filter((a) => a.outcome !== "interrupted").length);

    const places: Record<string, string> = {
      logs: h.logs.join("\n"),
      attempt_rows: JSON.stringify(attemptRows),
      delivery_rows: JSON.stringify(deliveryRows),
      api_responses: api.join("\n"),
      kafka_attempts: messages.map((m) => m.raw).join("\n"),
    };
    for (const [place, text] of Object.entries(places)) {
      expect(text.length, `${place} is not empty`).toBeGreaterThan(100);
      for (const needle of needles) expect(text.includes(needle), `${place} holds a secret`).toBe(false);
    }
    // What the records do show: the redacted URL.
    expect(places.kafka_attempts).toContain(`/echo/***?secret=***&team=ml`);
    expect(places.api_responses).toContain(`/down?token=***`);
  }, 90_000);
});
