import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** The repository root: infra/src (or infra/dist) is two levels below it. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Default home of everything the local stack writes; git-ignored. */
export function defaultStateDir(): string {
  return join(repoRoot, ".runhooks");
}
