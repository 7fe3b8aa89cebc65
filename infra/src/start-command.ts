import { RunhooksError } from "@runhooks/errors";
import { SERVICES, startEngine, type Engine, type ServiceName } from "./engine.js";
import type { InfraEnv } from "./env.js";
import type { Report } from "./kafka-dist.js";
import { describeStack, type PrepareReport } from "./stack.js";

/** A wrong service name or flag: said to the user with exit code 2. */
export class UsageError extends RunhooksError {
  readonly code = "usage";
  readonly retriable = false;
  override readonly name = "UsageError";
}

export function describePrepared(env: InfraEnv, prep: PrepareReport, say: Report): void {
  say(
    `topics      ${prep.topicsCreated.length} created, ${prep.topicsVerified.length} verified (prefix ${env.RUNHOOKS_TOPIC_PREFIX})`,
  );
  for (const raised of prep.topicsRaised) say(`            raised ${raised}`);
  for (const problem of prep.topicProblems)
    say(`WARNING ${problem} — fix the topic or use another RUNHOOKS_TOPIC_PREFIX`);
  say(
    `migrations  ${prep.migrationsApplied.length === 0 ? "up to date" : `applied ${prep.migrationsApplied.join(", ")}`}`,
  );
}

/** `--only a,b` (or RUNHOOKS_SERVICES=a,b); every service by default. Unknown names are a UsageError. */
export function parseServices(list: string | undefined): ServiceName[] {
  if (list === undefined || list.trim() === "") return [...SERVICES];
  const names = list
    .split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(SERVICES as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new UsageError(`unknown service ${unknown.join(", ")}; choose among ${SERVICES.join(", ")}`);
  return names as ServiceName[];
}

/** Resolves on Ctrl-C / SIGTERM, or when a local component dies. Signal listeners alone do not keep Node alive; the watch does. */
function untilStopped(health: () => Promise<string | undefined>): Promise<string> {
  return new Promise<string>((resolve) => {
    const watch = setInterval(() => {
      void health().then((problem) => {
        if (problem !== undefined) {
          clearInterval(watch);
          resolve(problem);
        }
      });
    }, 2000);
    const onSignal = (signal: string) => {
      clearInterval(watch);
      resolve(`received ${signal}`);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  });
}

/** Starts the engine and says where everything listens. */
export async function startAndDescribe(
  env: InfraEnv,
  only: readonly ServiceName[],
  say: Report,
  processEnv: NodeJS.ProcessEnv = process.env,
): Promise<Engine> {
  const started = Date.now();
  const engine = await startEngine(env, only, say, processEnv);
  for (const line of describeStack(engine.stack)) say(line);
  describePrepared(env, engine.prepared, say);
  for (const s of engine.services) say(`${s.name.padEnd(11)} ${s.summary}`);
  if (engine.adminKeyFile)
    say(
      `admin key   in ${engine.adminKeyFile} (create a tenant: RUNHOOKS_ADMIN_KEY=$(cat ${engine.adminKeyFile}) npx runhooks tenants create my-team)`,
    );
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s; press Ctrl-C to stop`);
  return engine;
}

/**
 * `start` (npm start, `runhooks start`): the engine in the foreground until Ctrl-C, SIGTERM or a local
 * component dying; then stops what it started.
 */
export async function runStartCommand(env: InfraEnv, only: readonly ServiceName[], say: Report): Promise<number> {
  const engine = await startAndDescribe(env, only, say);
  const reason = await untilStopped(() => engine.stack.health());
  say(`shutting down (${reason})…`);
  await engine.stop();
  say("stopped");
  return 0;
}
