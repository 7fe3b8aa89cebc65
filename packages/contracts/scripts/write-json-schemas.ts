// Writes packages/contracts/schemas/<Name>.json from the zod contracts (run: npm run schemas -w @runhooks/contracts).
import { mkdirSync, writeFileSync } from "node:fs";
import { contractJsonSchemas } from "@runhooks/contracts";

const dir = new URL("../schemas/", import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(contractJsonSchemas())) {
  writeFileSync(new URL(`${name}.json`, dir), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote schemas/${name}.json`);
}
