import { z } from "zod";
import { OTEL_ENV_KEYS, otelConfigFromEnv, type OtelEnv } from "./config.js";

/**
 * The standard OTEL_* variables as fields of a service's zod env schema (spread them in), each an
 * optional string; `refineOtelEnv` then checks them together the way `otelConfigFromEnv` reads them.
 */
export const otelEnvShape = Object.fromEntries(OTEL_ENV_KEYS.map((key) => [key, z.string().optional()])) as Record<
  (typeof OTEL_ENV_KEYS)[number],
  z.ZodOptional<z.ZodString>
>;

/** A `superRefine` step: an OTEL_* setting `otelConfigFromEnv` refuses becomes an issue at `OTEL`. */
export function refineOtelEnv(env: OtelEnv, ctx: z.RefinementCtx): void {
  try {
    otelConfigFromEnv(env);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message, path: ["OTEL"] });
  }
}

/**
 * A service's configuration parsed from its environment by its zod schema; refused with one line per
 * offending variable (`  RUNHOOKS_API_PORT: …`) under `invalid <what>:`, so the operator sees them all.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
  what: string,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
  throw new Error(`invalid ${what}:\n${lines.join("\n")}`);
}
