import { ApiClient, describeRefusal } from "../client.js";
import type { CliConfig } from "../config.js";
import { CliError, type CliIo } from "../io.js";
import { table } from "../table.js";

interface ListedProject {
  id: string;
  name: string;
  description: string | null;
  created_at: string;
}

export interface ListProjectsOptions {
  readonly nameContains?: string;
  readonly limit: string;
  readonly json: boolean;
}

/** `runhooks projects list`: the tenant's tracing projects, newest first (or the API's JSON with --json). */
export async function listProjectsCommand(options: ListProjectsOptions, config: CliConfig, io: CliIo): Promise<number> {
  const query = new URLSearchParams({ limit: options.limit });
  if (options.nameContains !== undefined) query.set("name_contains", options.nameContains);
  const answer = await new ApiClient(config).request<{ projects: ListedProject[] }>(
    "GET",
    `/projects?${query.toString()}`,
  );
  if (!answer.ok) throw new CliError(describeRefusal(answer).join("; "));
  const { projects } = answer.body;
  if (options.json) {
    io.out(`${JSON.stringify(projects, null, 2)}\n`);
    return 0;
  }
  if (projects.length === 0) {
    io.out(
      "no projects yet: a project appears with its first run through ingest (LANGSMITH_PROJECT names it; unnamed runs go to `default`)\n",
    );
    return 0;
  }
  const rows = [["ID", "CREATED", "NAME"], ...projects.map((p) => [p.id, p.created_at, p.name])];
  io.out(`${table(rows)}\n`);
  return 0;
}
