import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connectDatabase, sql } from "@runhooks/db";

/** The services that use PostgreSQL, each under a login role that is a member of its group role (migration 015). */
export const DATABASE_SERVICES = ["api", "ingest", "delivery"] as const;
export type DatabaseService = (typeof DATABASE_SERVICES)[number];

export type ServiceUrls = { readonly [S in DatabaseService]: string };

/** A service's password, generated once into the state folder (owner-only), never printed. */
async function password(stateDir: string, service: DatabaseService): Promise<string> {
  const dir = join(stateDir, "pg-roles");
  const file = join(dir, service);
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const generated = randomBytes(24).toString("base64url");
  await writeFile(file, `${generated}\n`, { mode: 0o600 });
  return generated;
}

/**
 * Makes each service a login role of its own (`runhooks_<service>_login_<state folder hash>`, in group `runhooks_<service>`)
 * with a password kept in the state folder, and answers the URL each service connects with. Needs a
 * connection that may create roles (the local stack's, or an owner's); otherwise the reason is
 * returned and every service keeps the given URL.
 */
export async function serviceDatabaseUrls(
  databaseUrl: string,
  stateDir: string,
): Promise<{ readonly ok: true; readonly urls: ServiceUrls } | { readonly ok: false; readonly reason: string }> {
  const db = connectDatabase({ url: databaseUrl, poolSize: 1 });
  // Roles are the server's: engines with other state folders (other passwords) on one server get their own.
  const suffix = createHash("sha256").update(stateDir).digest("hex").slice(0, 6);
  try {
    const urls: Partial<Record<DatabaseService, string>> = {};
    for (const service of DATABASE_SERVICES) {
      const role = `runhooks_${service}_login_${suffix}`;
      const secret = await password(stateDir, service);
      // base64url only: safe inside a quoted literal (DDL takes no bind parameters).
      const literal = sql.__dangerous__rawValue(`'${secret}'`);
      await db.tx(async (tx) => {
        await tx.query(sql`SELECT pg_advisory_xact_lock(7301994212)`);
        const exists = (await tx.query(sql`SELECT 1 FROM pg_roles WHERE rolname = ${role}`)).length > 0;
        await tx.query(sql`${exists ? sql`ALTER` : sql`CREATE`} ROLE ${sql.ident(role)} LOGIN PASSWORD ${literal}`);
        await tx.query(sql`GRANT ${sql.ident(`runhooks_${service}`)} TO ${sql.ident(role)}`);
      });
      const url = new URL(databaseUrl);
      url.username = role;
      url.password = secret;
      urls[service] = url.toString();
    }
    return { ok: true, urls: urls as ServiceUrls };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  } finally {
    await db.dispose();
  }
}
