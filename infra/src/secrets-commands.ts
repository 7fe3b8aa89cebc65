import { rename, writeFile } from "node:fs/promises";
import {
  connectDatabase,
  generateSecretKey,
  purgeHistorySecrets,
  requireSecretsKeyring,
  resealAll,
  type SecretKeyring,
} from "@runhooks/db";
import { localSecretsKey } from "./secrets-key.js";
import { UsageError } from "./start-command.js";

/**
 * `rotate-secrets-key` and `purge-secrets`: run once, by an operator, against the database the stack
 * names (DATABASE_URL or the local one), with the owner's connection.
 */

const DAY_MS = 86_400_000;

async function writeKeys(file: string, keys: readonly string[]): Promise<void> {
  // Written aside and renamed over: a reader sees the old file or the new one, never half of it.
  await writeFile(`${file}.next`, `${keys.join("\n")}\n`, { mode: 0o600 });
  await rename(`${file}.next`, file);
}

function keyText(keyring: SecretKeyring): string[] {
  return [keyring.current, ...[...keyring.byId.values()].filter((k) => k !== keyring.current)].map((k) =>
    k.bytes.toString("base64url"),
  );
}

/**
 * Generates a key, writes it to the key file before the old ones (so everything reads both while the
 * values move), re-seals every stored value under it batch by batch with progress, then drops the old
 * keys from the file (`--keep-old` leaves them). Services read the key at start: restart the API,
 * delivery and backfill once it is done.
 */
export async function rotateSecretsKey(
  databaseUrl: string,
  stateDir: string,
  env: NodeJS.ProcessEnv,
  args: readonly string[],
  say: (line: string) => void,
): Promise<number> {
  if (env["RUNHOOKS_SECRETS_KEY"]) {
    throw new UsageError(
      "rotate-secrets-key rewrites the key file: set RUNHOOKS_SECRETS_KEY_FILE instead of RUNHOOKS_SECRETS_KEY",
    );
  }
  const local = await localSecretsKey(stateDir, env);
  const file = local.file!;
  const fresh = generateSecretKey();
  const old = keyText(local.keyring);
  await writeKeys(file, [fresh, ...old]);
  const keyring = requireSecretsKeyring({ RUNHOOKS_SECRETS_KEY_FILE: file });
  say(
    `secrets key ${keyring.current.id} written to ${file}; old ${[...local.keyring.byId.keys()].join(", ")} kept readable`,
  );
  const db = connectDatabase({ url: databaseUrl, poolSize: 1, secrets: keyring });
  try {
    const result = await resealAll((work) => db.tx(work), keyring, {
      batchSize: 500,
      onProgress: (p) => say(`re-sealing ${p.table}: ${p.scanned} rows scanned, ${p.resealed} re-sealed`),
    });
    say(`re-sealed ${result.resealed} of ${result.scanned} rows under ${keyring.current.id}`);
  } finally {
    await db.dispose();
  }
  if (!args.includes("--keep-old")) {
    await writeKeys(file, [fresh]);
    say(`old keys dropped from ${file}`);
  }
  say("restart the API, delivery and backfill so that they read the new key");
  return 0;
}

/** Purges the webhook secrets of rule versions superseded (or deleted) more than `--older-than-days` ago. */
export async function purgeSecrets(
  databaseUrl: string,
  args: readonly string[],
  say: (line: string) => void,
  now: Date = new Date(),
): Promise<number> {
  const at = args.indexOf("--older-than-days");
  const days = at >= 0 ? Number(args[at + 1]) : 30;
  if (!Number.isFinite(days) || days < 0) throw new UsageError("--older-than-days takes a number of days (0 or more)");
  const db = connectDatabase({ url: databaseUrl, poolSize: 1 });
  try {
    const result = await purgeHistorySecrets(db, new Date(now.getTime() - days * DAY_MS), {
      onProgress: (n) => say(`purged ${n} versions so far`),
    });
    say(`purged the secrets of ${result.versions} old rule versions and ${result.deletedRules} deleted rules`);
  } finally {
    await db.dispose();
  }
  return 0;
}
