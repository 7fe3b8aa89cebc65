#!/usr/bin/env node
// The API service: `node services/api/dist/main.js`, configured by the environment (env.ts).
import { redactDatabaseUrl } from "@runhooks/db";
import { readApiEnv } from "./env.js";
import { apiOptionsFromEnv } from "./options.js";
import { startApi } from "./start.js";

async function main(): Promise<void> {
  const env = readApiEnv();
  const api = await startApi(apiOptionsFromEnv(env));
  console.error(
    `[runhooks-api] listening on ${api.url} (database ${redactDatabaseUrl(env.DATABASE_URL)}, ` +
      `relay ${env.RUNHOOKS_API_RELAY ? "on" : "off"}, admin API ${env.RUNHOOKS_ADMIN_KEY ? "on" : "off"})`,
  );
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  console.error(`[runhooks-api] ${signal}: shutting down`);
  await api.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("[runhooks-api] failed:", error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
