import type { Transaction } from "@databases/pg";
import type { SecretKeyring } from "./secret-cipher.js";
import { MigrationError } from "./migration-error.js";
import { countPlaintextRows, resealAll } from "./secret-reseal.js";

/**
 * What a migration needs done in code, in its own transaction, after its SQL: the work SQL cannot do.
 * Keyed by migration version.
 */
export const MIGRATION_HOOKS: ReadonlyMap<
  number,
  (tx: Transaction, secrets: SecretKeyring | undefined) => Promise<void>
> = new Map([
  [
    14,
    async (tx, secrets) => {
      if (secrets === undefined) {
        const plaintext = await countPlaintextRows(tx);
        if (plaintext === 0) return;
        throw new MigrationError(
          `migration 014_secrets_at_rest seals the webhook secrets of ${plaintext} rule rows and needs the secrets key: run the migrations with RUNHOOKS_SECRETS_KEY or RUNHOOKS_SECRETS_KEY_FILE set`,
        );
      }
      await resealAll((work) => work(tx), secrets);
    },
  ],
]);
