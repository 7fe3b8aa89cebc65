import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

// What infra/docker-compose.yml exposes, checked statically (no Docker here): published ports are
// bound to the loopback interface, and Grafana admits no one without a login.

interface Service {
  ports?: string[];
  environment?: Record<string, string | number>;
}
const infra = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const compose = parse(readFileSync(join(infra, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, Service>;
};

describe("what the compose file exposes", () => {
  const published = Object.entries(compose.services).flatMap(([name, s]) =>
    (s.ports ?? []).map((p) => [name, p] as const),
  );

  it("publishes every port on 127.0.0.1 only", () => {
    expect(published.map(([name]) => name).sort()).toEqual(
      ["api", "grafana", "ingest", "kafka", "postgres", "prometheus"].sort(),
    );
    for (const [name, port] of published) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it("makes Grafana ask for a login: no anonymous user, no sign-up, an admin password the user sets", () => {
    const env = compose.services["grafana"]!.environment ?? {};
    expect(env["GF_AUTH_ANONYMOUS_ENABLED"]).toBe("false");
    expect(env).not.toHaveProperty("GF_AUTH_ANONYMOUS_ORG_ROLE");
    expect(env).not.toHaveProperty("GF_AUTH_DISABLE_LOGIN_FORM");
    expect(env["GF_USERS_ALLOW_SIGN_UP"]).toBe("false");
    // Compose refuses to start without it (`:?`), so no default password is ever in use.
    expect(env["GF_SECURITY_ADMIN_PASSWORD"]).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}$/);
  });
});
