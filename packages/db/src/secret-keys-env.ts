import { readFileSync } from "node:fs";
import { parseSecretKeys, type SecretKeyring } from "./secret-cipher.js";
import { SecretsError } from "./secret-errors.js";

/** The variables that give the secrets key; a service's env.ts declares them and passes them here. */
export interface SecretsKeyEnv {
  readonly RUNHOOKS_SECRETS_KEY?: string | undefined;
  readonly RUNHOOKS_SECRETS_KEY_FILE?: string | undefined;
}

export type SecretsKeyResult =
  | { readonly ok: true; readonly keyring: SecretKeyring }
  | { readonly ok: false; readonly variable: string; readonly message: string };

/**
 * The keyring RUNHOOKS_SECRETS_KEY or the file RUNHOOKS_SECRETS_KEY_FILE names holds (keys separated by
 * commas or newlines, the first one sealing). `read` reads the file (tests pass their own). Messages
 * never hold a key.
 */
export function secretsKeyringFromEnv(
  env: SecretsKeyEnv,
  read: (path: string) => string = (path) => readFileSync(path, "utf8"),
): SecretsKeyResult {
  const inline = env.RUNHOOKS_SECRETS_KEY?.trim();
  const file = env.RUNHOOKS_SECRETS_KEY_FILE?.trim();
  if (inline && file) {
    return {
      ok: false,
      variable: "RUNHOOKS_SECRETS_KEY",
      message: "set RUNHOOKS_SECRETS_KEY or RUNHOOKS_SECRETS_KEY_FILE, not both",
    };
  }
  if (!inline && !file) {
    return {
      ok: false,
      variable: "RUNHOOKS_SECRETS_KEY",
      message: "is required: the key that seals webhook secrets (32 bytes, base64); or RUNHOOKS_SECRETS_KEY_FILE",
    };
  }
  let text = inline ?? "";
  if (file) {
    try {
      text = read(file);
    } catch (error) {
      return {
        ok: false,
        variable: "RUNHOOKS_SECRETS_KEY_FILE",
        message: `cannot be read: ${(error as Error).message}`,
      };
    }
  }
  const parsed = parseSecretKeys(text);
  if (!parsed.ok)
    return {
      ok: false,
      variable: file ? "RUNHOOKS_SECRETS_KEY_FILE" : "RUNHOOKS_SECRETS_KEY",
      message: parsed.message,
    };
  return parsed;
}

/** The keyring, or a SecretsError naming the variable and what is wrong with it (never its value). */
export function requireSecretsKeyring(env: SecretsKeyEnv, read?: (path: string) => string): SecretKeyring {
  const result = secretsKeyringFromEnv(env, read);
  if (!result.ok) throw new SecretsError("secrets_key_missing", `${result.variable} ${result.message}`);
  return result.keyring;
}
