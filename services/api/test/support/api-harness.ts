import { Writable } from "node:stream";
import { inject } from "vitest";
import { startApi, type RunningApi, type StartApiOptions } from "@runhooks/api";
import { createTestDatabase, uniquePrefix, type TestDatabase, TEST_SECRETS } from "../../../../test/support/stack.js";

export interface ApiAnswer {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked by the tests
  readonly body: any;
  readonly text: string;
  readonly headers: Headers;
}

export interface CallOptions {
  readonly key?: string | undefined;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export interface TestApi {
  readonly url: string;
  readonly adminKey: string;
  readonly database: TestDatabase;
  readonly topicPrefix: string;
  /** Every log line the API wrote. */
  readonly logs: string[];
  /** Every response body the API sent, for checking that no secret ever leaves. */
  readonly answers: string[];
  call(method: string, path: string, options?: CallOptions): Promise<ApiAnswer>;
  /** A new tenant and its first API key, through the admin API. */
  newTenant(name: string): Promise<{ tenantId: string; key: string }>;
  close(): Promise<void>;
}

/** `options`: more of startApi's options (quotas, say). */
export async function startTestApi(label: string, options: Partial<StartApiOptions> = {}): Promise<TestApi> {
  const database = await createTestDatabase(label);
  const logs: string[] = [];
  const answers: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString());
      callback();
    },
  });
  const adminKey = `admin-${label}-0123456789abcdef`;
  const topicPrefix = uniquePrefix(label);
  let api: RunningApi;
  try {
    api = await startApi({
      secrets: TEST_SECRETS,
      databaseUrl: database.url,
      kafkaBrokers: inject("kafkaBrokers"),
      topicPrefix,
      port: 0,
      adminKey,
      logger: { level: "debug", stream },
      relay: { pollIntervalMs: 500, retryDelayMs: 200 },
      ...options,
    });
  } catch (error) {
    await database.drop();
    throw error;
  }

  async function call(method: string, path: string, options: CallOptions = {}): Promise<ApiAnswer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key !== undefined) headers["x-api-key"] = options.key;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers,
      ...(options.body === undefined
        ? {}
        : { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }),
    });
    const text = await response.text();
    answers.push(`${[...response.headers.entries()].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${text}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: response.status, body, text, headers: response.headers };
  }

  return {
    url: api.url,
    adminKey,
    database,
    topicPrefix,
    logs,
    answers,
    call,
    async newTenant(name) {
      const answer = await call("POST", "/admin/tenants", { key: adminKey, body: { name } });
      if (answer.status !== 201) throw new Error(`could not create a tenant: ${answer.text}`);
      const body = answer.body as { tenant: { id: string }; api_key: { key: string } };
      return { tenantId: body.tenant.id, key: body.api_key.key };
    },
    async close() {
      await api.close();
      await database.drop();
    },
  };
}
