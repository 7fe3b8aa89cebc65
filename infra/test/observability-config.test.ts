import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { API_METRICS } from "@runhooks/api";
import { BACKFILL_METRICS } from "@runhooks/backfill";
import { DELIVERY_METRICS } from "@runhooks/delivery";
import { EVALUATOR_METRICS, EVALUATOR_NODE_FLAGS } from "@runhooks/evaluator";
import { INGEST_METRICS, INGEST_NODE_FLAGS } from "@runhooks/ingest";
import { ATTR, prometheusSeries, type MetricDef } from "@runhooks/telemetry";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

// Static checks of infra/docker-compose.yml and the Grafana provisioning, for machines without Docker
// (DESIGN.md §7): everything parses, every file referenced exists, and every dashboard query names a
// metric the services really export (from their metric definitions) and a datasource provisioned here.

const infra = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(infra, "..");
const readYaml = (path: string): unknown => parse(readFileSync(path, "utf8"), { merge: true }) as unknown;

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  depends_on?: string[] | Record<string, unknown>;
}
interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = readYaml(join(infra, "docker-compose.yml")) as Compose;

/** Host files a service mounts (`./x:/y`), resolved from infra/. */
function mounts(s: ComposeService): { host: string; target: string }[] {
  return (s.volumes ?? [])
    .map((v) => v.split(":"))
    .filter(([host]) => host !== undefined && (host.startsWith("./") || host.startsWith("../")))
    .map(([host, target]) => ({ host: resolve(infra, host!), target: target! }));
}

const exported = new Set(
  [
    ...Object.values(EVALUATOR_METRICS),
    ...Object.values(DELIVERY_METRICS),
    ...Object.values(INGEST_METRICS),
    ...Object.values(API_METRICS),
    ...Object.values(BACKFILL_METRICS),
  ].flatMap((def: MetricDef) => prometheusSeries(def)),
);

interface Target {
  datasource?: { uid?: string; type?: string };
  expr?: string;
  query?: string;
  rawSql?: string;
}
interface Panel {
  title: string;
  datasource?: { uid?: string; type?: string };
  targets?: Target[];
  panels?: Panel[];
}
const dashboardsDir = join(infra, "grafana", "dashboards");
const dashboards = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => ({
    file: f,
    json: JSON.parse(readFileSync(join(dashboardsDir, f), "utf8")) as { uid: string; panels: Panel[] },
  }));
const panels = dashboards.flatMap((d) =>
  d.json.panels.flatMap((p) => [p, ...(p.panels ?? [])]).map((p) => ({ file: d.file, panel: p })),
);
const targets = panels.flatMap(({ file, panel }) =>
  (panel.targets ?? []).map((t) => ({ file, panel, target: t, uid: t.datasource?.uid ?? panel.datasource?.uid })),
);

const datasources = (
  readYaml(join(infra, "grafana", "provisioning", "datasources", "runhooks.yaml")) as {
    datasources: { uid: string; type: string; url: string }[];
  }
).datasources;

/** Columns of each table, from the migrations (CREATE TABLE and ALTER TABLE … ADD COLUMN). */
function migrationColumns(): Map<string, Set<string>> {
  const dir = join(repo, "packages", "db", "migrations");
  const tables = new Map<string, Set<string>>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const text = readFileSync(join(dir, file), "utf8");
    for (const m of text.matchAll(/CREATE TABLE (\w+) \(([\s\S]*?)\n\);/g)) {
      const columns = new Set<string>();
      for (const line of m[2]!.split("\n")) {
        const col = /^\s+([a-z_]+)\s+(?!KEY)/.exec(line)?.[1];
        if (col && !["unique", "check", "primary", "constraint", "foreign"].includes(col)) columns.add(col);
      }
      tables.set(m[1]!, columns);
    }
    for (const m of text.matchAll(/ALTER TABLE (\w+)([\s\S]*?);/g)) {
      for (const c of m[2]!.matchAll(/ADD COLUMN (?:IF NOT EXISTS )?(\w+)/g)) tables.get(m[1]!)?.add(c[1]!);
    }
  }
  return tables;
}

describe("infra/docker-compose.yml", () => {
  it("parses, and every file it references exists", () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        "api",
        "backfill",
        "delivery",
        "evaluator",
        "ingest",
        "grafana",
        "grafana-reader",
        "kafka",
        "otel-collector",
        "postgres",
        "prometheus",
        "runhooks-init",
        "tempo",
      ].sort(),
    );
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.image ?? s.build, `${name} has an image or a build`).toBeDefined();
      if (s.build) {
        expect(existsSync(resolve(infra, s.build.context)), `${name} build context`).toBe(true);
        expect(
          existsSync(resolve(infra, s.build.context, s.build.dockerfile ?? "Dockerfile")),
          `${name} Dockerfile`,
        ).toBe(true);
      }
      for (const m of mounts(s)) expect(existsSync(m.host), `${name} mounts ${m.host}`).toBe(true);
      const needs = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const dep of needs) expect(compose.services, `${name} depends on ${dep}`).toHaveProperty(dep);
      for (const v of s.volumes ?? []) {
        const source = v.split(":")[0]!;
        if (!source.startsWith(".") && !source.startsWith("/"))
          expect(compose.volumes, `named volume ${source}`).toHaveProperty(source);
      }
    }
  });

  it("runs each service's real entry point, built from this repository", () => {
    for (const name of ["api", "evaluator", "delivery", "backfill"]) {
      const command = compose.services[name]!.command!;
      // After the Node flags, if any: the script.
      const script = command.find((c, i) => i > 0 && !c.startsWith("--"))!;
      expect(
        existsSync(join(repo, script.replace("/dist/", "/src/").replace(/\.js$/, ".ts"))),
        `${name}: ${command.join(" ")}`,
      ).toBe(true);
    }
    expect(compose.services["runhooks-init"]!.command).toEqual(["node", "infra/dist/cli.js", "up"]);
    expect(compose.services["ingest"]!.command).toEqual(["node", ...INGEST_NODE_FLAGS, "services/ingest/dist/main.js"]);
    expect(compose.services["evaluator"]!.command).toEqual([
      "node",
      ...EVALUATOR_NODE_FLAGS,
      "services/evaluator/dist/main.js",
    ]);
  });

  it("has configuration files that parse, pointing at services the compose file runs", () => {
    const collector = readYaml(join(infra, "otel", "collector.yaml")) as {
      exporters: Record<string, { endpoint?: string }>;
    };
    for (const e of Object.values(collector.exporters))
      if (e.endpoint) expect(compose.services).toHaveProperty(e.endpoint.split(":")[0]!);
    expect(readYaml(join(infra, "tempo", "tempo.yaml"))).toHaveProperty("distributor");
    const prometheus = readYaml(join(infra, "prometheus", "prometheus.yml")) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const scraped = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    expect(scraped.length).toBeGreaterThan(0);
    for (const target of scraped) {
      const [host, port] = target.split(":");
      const env = compose.services[host!]?.environment ?? {};
      // The service listens on that port, on every interface.
      expect(
        Object.entries(env).some(([k, v]) => k.endsWith("_PORT") && String(v) === port),
        target,
      ).toBe(true);
      expect(
        Object.entries(env).some(([k, v]) => k.endsWith("_HOST") && v === "0.0.0.0"),
        target,
      ).toBe(true);
    }
    for (const ds of datasources)
      expect(compose.services, ds.url).toHaveProperty(
        new URL(ds.url.includes("://") ? ds.url : `tcp://${ds.url}`).hostname,
      );
    const provider = readYaml(join(infra, "grafana", "provisioning", "dashboards", "runhooks.yaml")) as {
      providers: { options: { path: string } }[];
    };
    const grafanaMounts = mounts(compose.services["grafana"]!);
    expect(grafanaMounts.find((m) => m.target === provider.providers[0]!.options.path)?.host).toBe(dashboardsDir);
    expect(grafanaMounts.find((m) => m.target === "/etc/grafana/provisioning")?.host).toBe(
      join(infra, "grafana", "provisioning"),
    );
  });
});

describe("Grafana dashboards", () => {
  it("are the three the issue asks for, with unique uids", () => {
    expect(dashboards.map((d) => d.file).sort()).toEqual([
      "deliveries.json",
      "pipeline-overview.json",
      "trace-search.json",
    ]);
    expect(new Set(dashboards.map((d) => d.json.uid)).size).toBe(dashboards.length);
  });

  it("query only datasources the provisioning defines", () => {
    const uids = new Map(datasources.map((d) => [d.uid, d.type]));
    expect(targets.length).toBeGreaterThan(0);
    for (const { file, panel, uid, target } of targets) {
      expect(uids.has(uid ?? ""), `${file} / ${panel.title}: datasource ${uid}`).toBe(true);
      if (target.datasource?.type) expect(target.datasource.type).toBe(uids.get(uid!));
    }
    // Anywhere else too: panel datasources, data links into Tempo.
    for (const d of dashboards) {
      const text = JSON.stringify(d.json);
      for (const m of text.matchAll(/"datasourceUid":"([^"]+)"|"datasource":\{[^}]*"uid":"([^"]+)"/g)) {
        expect(uids.has(m[1] ?? m[2]!), `${d.file}: datasource ${m[1] ?? m[2]}`).toBe(true);
      }
    }
  });

  it("name only metrics the services export", () => {
    const prom = targets.filter((t) => t.uid === "runhooks-prometheus");
    expect(prom.length).toBeGreaterThan(0);
    for (const { file, panel, target } of prom) {
      const names = [...(target.expr ?? "").matchAll(/\brunhooks_[a-z0-9_]+/g)].map((m) => m[0]);
      expect(names.length, `${file} / ${panel.title}: ${target.expr}`).toBeGreaterThan(0);
      for (const name of names)
        expect(exported.has(name), `${file} / ${panel.title}: ${name} is not exported`).toBe(true);
    }
  });

  it("search traces by attributes the services set", () => {
    const known = new Set<string>(Object.values(ATTR));
    const tempo = targets.filter((t) => t.uid === "runhooks-tempo");
    expect(tempo.length).toBeGreaterThan(0);
    for (const { panel, target } of tempo) {
      for (const m of (target.query ?? "").matchAll(/span\.([a-z_.]+)/g))
        expect(known.has(m[1]!), `${panel.title}: ${m[1]}`).toBe(true);
    }
    const queries = tempo.map((t) => t.target.query).join("\n");
    expect(queries).toContain("span.runhooks.rule_id");
    expect(queries).toContain("span.runhooks.run_id");
  });

  it("read only granted tables and columns that exist from Postgres", () => {
    const columns = migrationColumns();
    // Grafana's login is a member of runhooks_reader, whose grants are migration 015's.
    expect(readFileSync(join(infra, "postgres", "grafana-reader.sql"), "utf8")).toContain(
      "GRANT runhooks_reader TO grafana_reader;",
    );
    const roles = readFileSync(join(repo, "packages", "db", "migrations", "015_service_roles.sql"), "utf8");
    const granted = /GRANT SELECT ON ([\w, ]+) TO runhooks_reader/
      .exec(roles)![1]!
      .split(",")
      .map((t) => t.trim());
    const sql = targets.filter((t) => t.uid === "runhooks-postgres");
    expect(sql.length).toBeGreaterThan(0);
    for (const { panel, target } of sql) {
      const text = target.rawSql ?? "";
      const aliases = new Map<string, string>();
      for (const m of text.matchAll(/\b(?:FROM|JOIN)\s+(\w+)\s+(\w+)/g)) {
        expect(granted, `${panel.title}: ${m[1]}`).toContain(m[1]);
        aliases.set(m[2]!, m[1]!);
      }
      for (const m of text.matchAll(/\b(\w+)\.(\w+)\b/g)) {
        const table = aliases.get(m[1]!);
        if (table !== undefined) expect(columns.get(table)?.has(m[2]!), `${panel.title}: ${m[0]}`).toBe(true);
      }
    }
    const failed = panels.find((p) => p.panel.title.startsWith("Recent failed attempts"))!;
    expect(JSON.stringify(failed.panel)).toContain('"datasourceUid":"runhooks-tempo"');
  });
});
