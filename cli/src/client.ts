import type { CliConfig } from "./config.js";
import { CliError } from "./io.js";

export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

export type ApiResult<T> =
  | { readonly ok: true; readonly status: number; readonly body: T }
  | {
      readonly ok: false;
      readonly status: number;
      readonly error: string;
      readonly message: string;
      readonly issues: readonly FieldIssue[];
    };

interface ErrorBody {
  error?: unknown;
  message?: unknown;
  issues?: unknown;
}

function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * A thin client of the runhooks API. Answers the API gives (400, 404, 409) come back as values; what
 * the user must fix before anything can work (unreachable API, missing or refused key) is a CliError
 * that says what to do.
 */
export class ApiClient {
  constructor(
    private readonly config: CliConfig,
    private readonly auth: "tenant" | "admin" = "tenant",
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    const key = this.auth === "admin" ? this.config.adminKey : this.config.apiKey;
    const variable = this.auth === "admin" ? "RUNHOOKS_ADMIN_KEY" : "RUNHOOKS_API_KEY";
    if (key === undefined) {
      throw new CliError(
        this.auth === "admin"
          ? "RUNHOOKS_ADMIN_KEY is not set: set it to the admin key the API was started with (`npm start` keeps one in .runhooks/admin-key: export RUNHOOKS_ADMIN_KEY=$(cat .runhooks/admin-key))"
          : "RUNHOOKS_API_KEY is not set: set it to an API key of your tenant (an operator creates one with `runhooks tenants create <name>`)",
      );
    }
    let response: Response;
    try {
      response = await fetch(`${this.config.apiUrl}${path}`, {
        method,
        headers: { "x-api-key": key, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new CliError(
        `cannot reach the runhooks API at ${this.config.apiUrl} (${networkCause(error)}): start it with \`npm start\` ` +
          "(or `npx runhooks start`), or set RUNHOOKS_API_URL to where the API listens.",
        "unavailable",
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(
        `the API at ${this.config.apiUrl} answered ${response.status} with something that is not JSON; is RUNHOOKS_API_URL right?`,
      );
    }
    if (response.ok) return { ok: true, status: response.status, body: parsed as T };
    const error = (parsed ?? {}) as ErrorBody;
    const message = typeof error.message === "string" ? error.message : `HTTP ${response.status}`;
    if (response.status === 401) {
      throw new CliError(`the API refused the key (${message}): set ${variable} to a valid key`);
    }
    return {
      ok: false,
      status: response.status,
      error: typeof error.error === "string" ? error.error : "error",
      message,
      issues: Array.isArray(error.issues) ? (error.issues as FieldIssue[]) : [],
    };
  }
}

/** `path: message` lines for an API refusal. */
export function describeRefusal(result: Extract<ApiResult<unknown>, { ok: false }>): string[] {
  if (result.issues.length === 0) return [`${result.error}: ${result.message}`];
  return result.issues.map((i) => `${i.path}: ${i.message}`);
}
