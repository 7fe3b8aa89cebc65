import { ApiClient, describeRefusal } from "../client.js";
import type { CliConfig } from "../config.js";
import { CliError, type CliIo } from "../io.js";

interface TenantAnswer {
  tenant: { id: string; name: string };
  api_key: { id: string; key: string };
}

/** `runhooks tenants create <name>` (admin key): a tenant and its first API key, shown once. */
export async function createTenantCommand(name: string, config: CliConfig, io: CliIo): Promise<number> {
  const answer = await new ApiClient(config, "admin").request<TenantAnswer>("POST", "/admin/tenants", { name });
  if (!answer.ok) throw new CliError(describeRefusal(answer).join("; "));
  const { tenant, api_key } = answer.body;
  io.out(`tenant ${tenant.id} (${tenant.name})\n`);
  io.out(`API key ${api_key.id} — shown once, store it now:\n`);
  io.out(`export RUNHOOKS_API_KEY=${api_key.key}\n`);
  return 0;
}
