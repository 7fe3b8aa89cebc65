import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { contractJsonSchemas } from "@runhooks/contracts";

const schemas = contractJsonSchemas();

describe("JSON Schema export", () => {
  it.each(Object.keys(schemas))("%s is generated and committed up to date", (name) => {
    const committed = JSON.parse(readFileSync(new URL(`../schemas/${name}.json`, import.meta.url), "utf8")) as unknown;
    // Regenerate with `npm run schemas -w @runhooks/contracts` when this fails.
    expect(committed).toEqual(schemas[name as keyof typeof schemas]);
  });

  it("describes the run's required fields and lets unknown ones through", () => {
    const run = schemas.Run;
    expect(run["required"]).toEqual(expect.arrayContaining(["id", "name", "run_type", "start_time", "tenant_id"]));
    expect(run["additionalProperties"]).not.toBe(false);
  });
});
