import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerResponse } from "node:http";
import {
  createDeliveryHarness,
  eventually,
  newSecret,
  sleep,
  type AttemptRow,
  type DeliveryHarness,
  type DeliveryRow,
  type PublishedWindow,
} from "./harness.js";
import { reply, startReceiver, type Behaviour, type Receiver } from "./receiver.js";

/**
 * LangSmith's "Webhook Delivery" policy against real local endpoints that misbehave on purpose, one
 * receiver per scenario, all delivered by one service at once. Spacing is asserted as lower bounds only.
 */

const TEN_MB = 10 * 1024 * 1024;

interface Scenario {
  readonly behaviour: Behaviour;
  receiver?: Receiver;
  secret: string;
  window?: PublishedWindow;
  delivery?: DeliveryRow;
  attempts?: AttemptRow[];
}

/** Streams 10 MB as fast as the client reads it (waiting for drain): it only finishes if read whole. */
const hugeBody: Behaviour = async (_r, _n, res: ServerResponse) => {
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(TEN_MB) });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  for (let sent = 0; sent < TEN_MB && !res.destroyed; sent += chunk.length) {
    const ok = res.write(chunk, (error) => {
      if (!error) hugeBodyStats.written += chunk.length;
    });
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    }
  }
  if (!res.destroyed) res.end();
};

const hugeBodyStats = { finished: false, closedEarly: false, written: 0 };

let h: DeliveryHarness;
const refusedThenUp: { receiver?: Receiver } = {};
const redirectTarget: { hits: number; receiver?: Receiver } = { hits: 0 };

const scenarios: Record<string, Scenario> = {
  ok: { behaviour: reply(200, "thanks"), secret: newSecret() },
  notFound: { behaviour: reply(404, "no such hook"), secret: newSecret() },
  fiveHundredThenOk: { behaviour: (r, n, res) => reply(n === 1 ? 500 : 200)(r, n, res), secret: newSecret() },
  fiveHundredThrice: { behaviour: reply(500, "down"), secret: newSecret() },
  slow: {
    behaviour: (_r, _n, res) => {
      const t = setTimeout(() => res.writeHead(200).end("late"), 6000);
      res.on("close", () => clearTimeout(t));
    },
    secret: newSecret(),
  },
  redirect: {
    behaviour: (r, n, res) => reply(301, "", { location: `${redirectTarget.receiver!.url}/elsewhere` })(r, n, res),
    secret: newSecret(),
  },
  huge: {
    behaviour: (r, n, res) => {
      res.on("finish", () => (hugeBodyStats.finished = true));
      res.on("close", () => (hugeBodyStats.closedEarly = !res.writableFinished));
      return hugeBody(r, n, res);
    },
    secret: newSecret(),
  },
};
const refusedSecret = newSecret();
let refusedWindow: PublishedWindow | undefined;

async function finalOf(windowId: string): Promise<DeliveryRow> {
  let row: DeliveryRow | undefined;
  await eventually(
    `the delivery of window ${windowId} to finish`,
    async () => {
      [row] = await h.deliveries({ windowIds: [windowId] });
      return row !== undefined && (row.status === "succeeded" || row.status === "failed");
    },
    40_000,
  );
  return row!;
}

beforeAll(async () => {
  h = await createDeliveryHarness("scenarios");
  for (const s of Object.values(scenarios)) {
    s.receiver = await startReceiver(s.behaviour, { secret: s.secret });
  }
  // The redirect points at a receiver that counts: it must never be hit.
  redirectTarget.receiver = await startReceiver((r, n, res) => {
    redirectTarget.hits++;
    return reply(200)(r, n, res);
  });
  // Could not connect, then up: the endpoint resets the first connection before any answer, then
  // answers — decided by the connection, not by coming up within the 1 s backoff.
  refusedThenUp.receiver = await startReceiver(reply(200, "up now"), { secret: refusedSecret, resetFirst: 1 });

  const rules = new Map<string, { ruleId: string; version: number }>();
  for (const [name, s] of Object.entries(scenarios)) {
    rules.set(name, await h.createRule([{ url: `${s.receiver!.url}/hook/${name}`, signing_secret: s.secret }]));
  }
  const refusedRule = await h.createRule([
    { url: `${refusedThenUp.receiver.url}/hook`, signing_secret: refusedSecret },
  ]);

  await h.start();
  for (const [name, s] of Object.entries(scenarios)) [s.window] = await h.publishWindows(rules.get(name)!, 1);
  [refusedWindow] = await h.publishWindows(refusedRule, 1);

  for (const s of Object.values(scenarios)) {
    s.delivery = await finalOf(s.window!.window_id);
    s.attempts = await h.attempts(s.delivery.id);
  }
}, 120_000);

afterAll(async () => {
  await h?.close();
  for (const s of Object.values(scenarios)) await s.receiver?.close();
  await refusedThenUp.receiver?.close();
  await redirectTarget.receiver?.close();
});

const outcomes = (s: Scenario) => s.attempts!.map((a) => a.outcome);
const gapsMs = (s: Scenario) => s.receiver!.received.slice(1).map((r, i) => r.at - s.receiver!.received[i]!.at);

describe("delivery scenarios (seed policy)", () => {
  it("200: one attempt, succeeded; the body is LangSmith's payload shape, signed", () => {
    const s = scenarios.ok!;
    expect(s.delivery!.status).toBe("succeeded");
    expect(outcomes(s)).toEqual(["success"]);
    expect(s.attempts![0]).toMatchObject({
      attempt: 1,
      trigger: "scheduled",
      status_code: 200,
      response_excerpt: "thanks",
    });
    const [r] = s.receiver!.received;
    expect(s.receiver!.received).toHaveLength(1);
    expect(r!.verified).toBe(true);
    expect(r!.id).toBe(s.delivery!.id);
    expect(r!.headers["content-type"]).toBe("application/json");
    expect(r!.headers["user-agent"]).toMatch(/^runhooks\/\d+\.\d+\.\d+$/);
    expect(r!.headers["traceparent"]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect([r!.headers["runhooks-chunk-index"], r!.headers["runhooks-chunk-count"]]).toEqual(["0", "1"]);
    const body = JSON.parse(r!.body.toString()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["rule_id", "start_time", "end_time", "runs"]);
    const w = s.window!;
    expect(body).toEqual({ rule_id: w.rule_id, start_time: w.start_time, end_time: w.end_time, runs: w.runs });
  });

  it("404: one attempt, failed, no retry", () => {
    const s = scenarios.notFound!;
    expect(s.delivery!.status).toBe("failed");
    expect(outcomes(s)).toEqual(["http_4xx"]);
    expect(s.attempts![0]!.status_code).toBe(404);
    expect(s.delivery!.next_attempt_at).toBeNull();
    expect(s.receiver!.received).toHaveLength(1);
  });

  it("500 then 200: retried once after at least 1 s, same webhook-id, both signatures valid", () => {
    const s = scenarios.fiveHundredThenOk!;
    expect(s.delivery!.status).toBe("succeeded");
    expect(outcomes(s)).toEqual(["http_5xx", "success"]);
    expect(s.attempts!.map((a) => a.status_code)).toEqual([500, 200]);
    const got = s.receiver!.received;
    expect(got).toHaveLength(2);
    expect(got.map((r) => r.verified)).toEqual([true, true]);
    expect(new Set(got.map((r) => r.id))).toEqual(new Set([s.delivery!.id]));
    expect(got.map((r) => r.attempt)).toEqual([1, 2]);
    expect(gapsMs(s)[0]).toBeGreaterThanOrEqual(1000);
    expect(s.attempts![1]!.started_at.getTime() - s.attempts![0]!.started_at.getTime()).toBeGreaterThanOrEqual(1000);
  });

  it("500 three times: 3 attempts with doubling backoff (≥ 1 s, ≥ 2 s), then failed", () => {
    const s = scenarios.fiveHundredThrice!;
    expect(s.delivery!.status).toBe("failed");
    expect(outcomes(s)).toEqual(["http_5xx", "http_5xx", "http_5xx"]);
    expect(s.receiver!.received).toHaveLength(3);
    expect(s.receiver!.received.every((r) => r.verified === true && r.id === s.delivery!.id)).toBe(true);
    const [first, second] = gapsMs(s);
    expect(first).toBeGreaterThanOrEqual(1000);
    expect(second).toBeGreaterThanOrEqual(2000);
    // Every attempt has its own timestamp header, each signed.
    expect(s.receiver!.received.map((r) => r.attempt)).toEqual([1, 2, 3]);
  });

  it("a reply after 6 s: one attempt, timeout after at least 5 s, failed, no retry", () => {
    const s = scenarios.slow!;
    expect(s.delivery!.status).toBe("failed");
    expect(outcomes(s)).toEqual(["timeout"]);
    expect(s.attempts![0]!.duration_ms).toBeGreaterThanOrEqual(5000);
    expect(s.attempts![0]!.status_code).toBeNull();
    expect(s.receiver!.received).toHaveLength(1);
  });

  it("could not connect (reset before any answer), then up: connect_error, then success at least 1 s later", async () => {
    const [d] = await h.deliveries({ windowIds: [refusedWindow!.window_id] });
    const final = await finalOf(refusedWindow!.window_id);
    const attempts = await h.attempts(d!.id);
    expect(final.status).toBe("succeeded");
    expect(attempts.map((a) => a.outcome)).toEqual(["connect_error", "success"]);
    // (A refused connection is connect_error too: http-thread.int.test.ts.)
    expect(attempts[0]!.error).toMatch(/ECONNRESET|UND_ERR_SOCKET|other side closed/);
    expect(attempts[1]!.started_at.getTime() - attempts[0]!.started_at.getTime()).toBeGreaterThanOrEqual(1000);
    const got = refusedThenUp.receiver!.received;
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ id: d!.id, attempt: 2, verified: true });
  });

  it("301: one attempt, failed, the redirect is not followed", async () => {
    const s = scenarios.redirect!;
    expect(s.delivery!.status).toBe("failed");
    expect(outcomes(s)).toEqual(["http_3xx"]);
    expect(s.attempts![0]!.status_code).toBe(301);
    await sleep(200);
    expect(redirectTarget.hits).toBe(0);
  });

  it("a 10 MB body: success, an excerpt of at most 1 KiB, and the body is not read whole", () => {
    const s = scenarios.huge!;
    expect(s.delivery!.status).toBe("succeeded");
    expect(outcomes(s)).toEqual(["success"]);
    const excerpt = s.attempts![0]!.response_excerpt!;
    expect(Buffer.byteLength(excerpt)).toBeLessThanOrEqual(1024);
    expect(excerpt).toMatch(/^a+$/);
    expect(excerpt.length).toBe(1024);
    // The sender hung up: the receiver never got to finish writing its 10 MB.
    expect(hugeBodyStats.finished).toBe(false);
    expect(hugeBodyStats.closedEarly).toBe(true);
    expect(hugeBodyStats.written).toBeLessThan(TEN_MB);
  });

  it("every attempt is on the attempts topic, redacted URL, matching its row", async () => {
    // Rows are marked published shortly after Kafka has them (marks are batched).
    await eventually("every attempt marked published", async () =>
      (await h.attempts()).every((r) => r.outcome === "interrupted" || r.published_at !== null),
    );
    const rows = await h.attempts();
    const withOutcome = rows.filter((r) => r.outcome !== "interrupted");
    const messages = await h.attemptMessages(withOutcome.length);
    const key = (d: string, a: number) => `${d}/${a}`;
    const byKey = new Map(messages.map((m) => [key(m.value.delivery_id, m.value.attempt), m.value]));
    for (const row of withOutcome) {
      const m = byKey.get(key(row.delivery_id, row.attempt));
      expect(m, `attempt ${row.attempt} of ${row.delivery_id}`).toBeDefined();
      expect(m).toMatchObject({
        outcome: row.outcome,
        status_code: row.status_code,
        trigger: row.trigger,
        url: row.url,
      });
    }
    expect(withOutcome.every((r) => r.published_at !== null)).toBe(true);
    // Without a crash, each exactly once: rows are marked once Kafka has them, so the sweeper (which
    // republishes unmarked rows) has nothing to send again.
    expect(messages).toHaveLength(withOutcome.length);
  });
});
