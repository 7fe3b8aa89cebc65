import { z } from "zod";
import { CliError } from "./io.js";

export const DEFAULT_API_URL = "http://127.0.0.1:8080";

export interface CliConfig {
  readonly apiUrl: string;
  readonly apiKey: string | undefined;
  readonly adminKey: string | undefined;
}

const Env = z.object({
  RUNHOOKS_API_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as http://127.0.0.1:8080" }).optional(),
  RUNHOOKS_API_KEY: z.string().min(1).optional(),
  RUNHOOKS_ADMIN_KEY: z.string().min(1).optional(),
});

/** The CLI's configuration: RUNHOOKS_API_URL (default http://127.0.0.1:8080), RUNHOOKS_API_KEY, RUNHOOKS_ADMIN_KEY. */
export function readConfig(env: Readonly<Record<string, string | undefined>>): CliConfig {
  const parsed = Env.safeParse({
    RUNHOOKS_API_URL: env["RUNHOOKS_API_URL"] || undefined,
    RUNHOOKS_API_KEY: env["RUNHOOKS_API_KEY"] || undefined,
    RUNHOOKS_ADMIN_KEY: env["RUNHOOKS_ADMIN_KEY"] || undefined,
  });
  if (!parsed.success) {
    throw new CliError(parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; "));
  }
  return {
    apiUrl: (parsed.data.RUNHOOKS_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, ""),
    apiKey: parsed.data.RUNHOOKS_API_KEY,
    adminKey: parsed.data.RUNHOOKS_ADMIN_KEY,
  };
}
