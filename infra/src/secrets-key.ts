import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateSecretKey, requireSecretsKeyring, type SecretKeyring } from "@runhooks/db";

export interface LocalSecretsKey {
  readonly keyring: SecretKeyring;
  /** The file holding the keys, when it is one (given or generated): what services are pointed at. */
  readonly file?: string;
  /** What the services' environment needs to read the same keys. */
  readonly env: { readonly RUNHOOKS_SECRETS_KEY?: string; readonly RUNHOOKS_SECRETS_KEY_FILE?: string };
}

/** Where a local engine keeps the secrets key it generated. */
export function secretsKeyFile(stateDir: string): string {
  return join(stateDir, "secrets-key");
}

/**
 * The key sealing webhook secrets: RUNHOOKS_SECRETS_KEY or RUNHOOKS_SECRETS_KEY_FILE when set; otherwise
 * the one generated on first start into the (git-ignored) state folder, readable by its owner only, as
 * the admin key is. It is never printed.
 */
export async function localSecretsKey(stateDir: string, env: NodeJS.ProcessEnv): Promise<LocalSecretsKey> {
  const inline = env["RUNHOOKS_SECRETS_KEY"];
  const given = env["RUNHOOKS_SECRETS_KEY_FILE"];
  if (inline)
    return { keyring: requireSecretsKeyring({ RUNHOOKS_SECRETS_KEY: inline }), env: { RUNHOOKS_SECRETS_KEY: inline } };
  const file = given || secretsKeyFile(stateDir);
  if (!given && !existsSync(file)) {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    await writeFile(file, `${generateSecretKey()}\n`, { mode: 0o600, flag: "wx" });
  }
  return {
    keyring: requireSecretsKeyring({ RUNHOOKS_SECRETS_KEY_FILE: file }),
    file,
    env: { RUNHOOKS_SECRETS_KEY_FILE: file },
  };
}
