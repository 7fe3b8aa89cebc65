import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources through the "source" export condition,
// so tests never run against a stale `dist/`.
const resolve = { conditions: ["source"] };
const ssr = { resolve: { conditions: ["source"], externalConditions: ["source"] } };

export default defineConfig({
  resolve,
  ssr,
  test: {
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: "unit",
          include: [
            "packages/*/test/**/*.test.ts",
            "services/*/test/**/*.test.ts",
            "infra/test/**/*.test.ts",
            "cli/test/**/*.test.ts",
            "test/**/*.test.ts",
          ],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
          // The differential tests (20,000 generated runs, 10,000 filter pairs) and the lint-boundary
          // test (it runs eslint) take seconds; a busy 2-core CI box must not fail them on time alone.
          testTimeout: 30_000,
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: "integration",
          include: ["**/test/**/*.int.test.ts"],
          exclude: ["**/node_modules/**"],
          // Starts (or reuses) the real Kafka broker and Postgres once for the whole run.
          globalSetup: ["test/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Integration tests share one broker and one database; files run one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
