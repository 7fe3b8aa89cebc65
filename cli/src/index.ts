export { runCli } from "./program.js";
export { CliError } from "./io.js";
export type { CliIo } from "./io.js";
export { readConfig, DEFAULT_API_URL } from "./config.js";
export type { CliConfig } from "./config.js";
