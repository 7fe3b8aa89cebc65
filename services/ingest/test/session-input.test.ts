import { projectId } from "@runhooks/rules";
import { describe, expect, it } from "vitest";
import { withoutApiPrefix } from "../src/app.js";
import { newSession, sessionChanges, sessionsQuery } from "../src/session-input.js";

const TENANT = "5b0e7c1d-3f2a-4d6b-9e8c-1a2b3c4d5e6f";
const ID = "7d2a9e3f-5b4c-4f8d-9a0e-3c4d5e6f7081";

describe("the /api/v1 prefix", () => {
  it.each<[string, string]>([
    ["/api/v1/runs/multipart", "/runs/multipart"],
    ["/api/v1/sessions?name=x", "/sessions?name=x"],
    ["/api/v1/info", "/info"],
    ["/api/v1", "/"],
    ["/api/v1?x=1", "/?x=1"],
    ["/api/v12/runs", "/api/v12/runs"],
    ["/api/v2/runs", "/api/v2/runs"],
    ["/runs/batch", "/runs/batch"],
    ["/api/v1/api/v1/runs", "/api/v1/runs"],
  ])("%s → %s", (url, routed) => {
    expect(withoutApiPrefix(url)).toBe(routed);
  });
});

describe("GET /sessions' query", () => {
  it.each<[string, Record<string, string | string[]>, unknown]>([
    ["readProject({projectName})", { name: "support-bot" }, { name: "support-bot", limit: 100, offset: 0 }],
    [
      "readProject with include_stats: ignored",
      { name: "p", include_stats: "true" },
      { name: "p", limit: 100, offset: 0 },
    ],
    ["listProjects' paging", { limit: "100", offset: "200" }, { limit: 100, offset: 200 }],
    ["name_contains", { name_contains: "Bot" }, { nameContains: "Bot", limit: 100, offset: 0 }],
    ["ids, repeated, lowered", { id: [ID.toUpperCase(), ID] }, { ids: [ID, ID], limit: 100, offset: 0 }],
    ["one id", { id: ID }, { ids: [ID], limit: 100, offset: 0 }],
    ["metadata", { metadata: '{"team":"ml"}' }, { metadata: { team: "ml" }, limit: 100, offset: 0 }],
    [
      "reference_free, sort_by, dataset_version: ignored",
      { reference_free: "true", sort_by: "start_time", dataset_version: "latest" },
      { limit: 100, offset: 0 },
    ],
  ])("%s", (_why, query, filter) => {
    const parsed = sessionsQuery(query);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(Object.fromEntries(Object.entries(parsed.filter).filter(([, v]) => v !== undefined))).toEqual(filter);
    expect(parsed.none).toBe(false);
  });

  it("lists nothing for a reference dataset (runhooks projects have none)", () => {
    expect(sessionsQuery({ reference_dataset: ID })).toMatchObject({ ok: true, none: true });
  });

  it.each<[string, Record<string, string | string[]>, string]>([
    ["a limit over 100", { limit: "101" }, "limit"],
    ["a limit of 0", { limit: "0" }, "limit"],
    ["a limit that is not a number", { limit: "many" }, "limit"],
    ["a negative offset", { offset: "-1" }, "offset"],
    ["an id that is not a UUID", { id: ["x"] }, "id"],
    ["metadata that is not JSON", { metadata: "{" }, "metadata"],
    ["metadata that is not an object", { metadata: "[1]" }, "metadata"],
  ])("refuses %s, naming the parameter", (_why, query, path) => {
    expect(sessionsQuery(query)).toMatchObject({ ok: false, issues: [{ part: "(query)", path }] });
  });
});

describe("POST /sessions' body", () => {
  it("takes the SDK's createProject body, with the id derived from the name", () => {
    expect(newSession(TENANT, { name: "support-bot", extra: { metadata: { team: "ml" } }, description: null })).toEqual(
      {
        ok: true,
        project: {
          id: projectId(TENANT, "support-bot"),
          name: "support-bot",
          description: null,
          extra: { metadata: { team: "ml" } },
        },
      },
    );
    expect(
      newSession(TENANT, { name: "p", id: projectId(TENANT, "p"), start_time: "2026-01-01T00:00:00Z" }),
    ).toMatchObject({
      ok: true,
    });
  });

  it.each<[string, unknown, string]>([
    ["not an object", [1], "(root)"],
    ["no name", { description: "x" }, "name"],
    ["an empty name", { name: "" }, "name"],
    ["a name too long", { name: "x".repeat(1001) }, "name"],
    ["a description that is not text", { name: "p", description: 3 }, "description"],
    ["extra that is not an object", { name: "p", extra: "x" }, "extra"],
    ["an id other than the derived one", { name: "p", id: ID }, "id"],
    ["a reference dataset", { name: "p", reference_dataset_id: ID }, "reference_dataset_id"],
  ])("refuses %s, naming the field", (_why, body, path) => {
    expect(newSession(TENANT, body)).toMatchObject({ ok: false, issues: [{ path }] });
  });
});

describe("PATCH /sessions/:id's body", () => {
  const id = projectId(TENANT, "support-bot");
  it.each<[string, unknown, { description: string | null; extra: object | null }]>([
    [
      "the SDK's updateProject body, name repeated",
      { name: "support-bot", description: "d", extra: { metadata: { a: 1 } }, end_time: null },
      { description: "d", extra: { metadata: { a: 1 } } },
    ],
    [
      "nothing to change",
      { name: null, description: null, extra: null, end_time: null },
      { description: null, extra: null },
    ],
    ["an empty body", {}, { description: null, extra: null }],
  ])("takes %s", (_why, body, changes) => {
    expect(sessionChanges(TENANT, id, body)).toEqual({ ok: true, changes });
  });

  it.each<[string, unknown, string]>([
    ["not an object", "x", "(root)"],
    ["another name (a rename)", { name: "support-bot-2" }, "name"],
    ["a name that is not text", { name: 7 }, "name"],
    ["a description that is not text", { description: [] }, "description"],
    ["extra that is not an object", { extra: 1 }, "extra"],
    ["an end time", { end_time: "2026-01-01T00:00:00Z" }, "end_time"],
  ])("refuses %s, naming the field", (_why, body, path) => {
    expect(sessionChanges(TENANT, id, body)).toMatchObject({ ok: false, issues: [{ path }] });
  });
});
