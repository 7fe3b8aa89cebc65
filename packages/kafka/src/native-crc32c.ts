import Module, { createRequire } from "node:module";
// `@node-rs/crc32` (napi-rs): hardware CRC32C (SSE 4.2 / ARMv8) with prebuilt binaries as optional
// dependencies, no install script. Pinned in package.json.
import { crc32c } from "@node-rs/crc32";

const require = createRequire(import.meta.url);

/**
 * The module of kafkajs 2.x that checksums every record batch it produces (`module.exports = buffer =>
 * unsigned CRC32C`), required by `protocol/recordBatch/v0` when the first produce request is encoded.
 * kafkajs offers no hook for it, and its pure-JS CRC runs at ~300 MB/s on the event loop.
 */
export const KAFKAJS_CRC32C_MODULE = "kafkajs/src/protocol/recordBatch/crc32C/index.js";

export type NativeCrc32C =
  /** kafkajs' record batches are checksummed natively. */
  | "native"
  /** kafkajs had already loaded its own before this ran: it keeps it (correct, slower). */
  | "kafkajs-already-loaded"
  /** This kafkajs has no such module (a new layout): it keeps its own (correct, slower). */
  | "kafkajs-layout-changed";

const nativeCrc32C = (buffer: Buffer): number => crc32c(buffer) >>> 0;

/**
 * Puts a native CRC32C in the place of kafkajs' JavaScript one, by seeding Node's module cache with it
 * before kafkajs first requires that module: kafkajs then loads ours, and nothing of kafkajs is edited.
 * Sound only because the module's contract is one pure function of the bytes; the broker checks every
 * batch's CRC, and a test proves both functions agree. Must run before the process's first produce
 * (`createKafka` runs it); idempotent. On a kafkajs whose layout differs it changes nothing.
 */
export function useNativeCrc32C(): NativeCrc32C {
  let path: string;
  try {
    path = require.resolve(KAFKAJS_CRC32C_MODULE);
  } catch {
    return "kafkajs-layout-changed";
  }
  const cached = require.cache[path];
  if (cached !== undefined) return cached.exports === nativeCrc32C ? "native" : "kafkajs-already-loaded";
  const module = new Module(path);
  module.filename = path;
  module.loaded = true;
  module.exports = nativeCrc32C;
  require.cache[path] = module;
  return "native";
}
