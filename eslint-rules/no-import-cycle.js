// @ts-check
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import ts from "typescript";

/**
 * No import cycles between a workspace's own files. Every relative import counts, `import type` and
 * `export … from` included: a cycle of types still ties two modules into one. The linted file's imports
 * come from the text being linted; the files it reaches are read from disk (and cached by mtime).
 */

/** @type {Map<string, { mtimeMs: number; imports: string[] }>} */
const onDisk = new Map();

/** `./x.js` names `x.ts` (NodeNext resolution); an import that names no file here is not followed. */
function resolveRelative(/** @type {string} */ from, /** @type {string} */ specifier) {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return undefined;
  const target = resolve(dirname(from), specifier);
  for (const candidate of [target.replace(/\.js$/, ".ts").replace(/\.mjs$/, ".mts"), target]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** The relative imports of a module's text: `{ path, pos, end }` of each specifier that names a file. */
function importsIn(/** @type {string} */ file, /** @type {string} */ text) {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => ({ path: resolveRelative(file, f.fileName), pos: f.pos, end: f.end }))
    .filter((i) => i.path !== undefined);
}

function importsOnDisk(/** @type {string} */ file) {
  const { mtimeMs } = statSync(file);
  const cached = onDisk.get(file);
  if (cached?.mtimeMs === mtimeMs) return cached.imports;
  const imports = [...new Set(importsIn(file, readFileSync(file, "utf8")).map((i) => /** @type {string} */ (i.path)))];
  onDisk.set(file, { mtimeMs, imports });
  return imports;
}

/** The shortest chain of imports from `start` back to `home`, or undefined. Breadth first. */
function pathBack(/** @type {string} */ start, /** @type {string} */ home) {
  /** @type {Map<string, string | undefined>} */
  const cameFrom = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = /** @type {string} */ (queue.shift());
    if (file === home) {
      const chain = [];
      for (let at = /** @type {string | undefined} */ (file); at !== undefined; at = cameFrom.get(at))
        chain.unshift(at);
      return chain;
    }
    for (const next of importsOnDisk(file)) {
      if (!cameFrom.has(next)) {
        cameFrom.set(next, file);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** @type {import("eslint").Rule.RuleModule} */
export default {
  meta: {
    type: "problem",
    docs: { description: "Forbid relative imports that lead back to the importing module." },
    messages: { cycle: "Import cycle: {{chain}}. Move what both sides need into a module of its own." },
    schema: [],
  },
  create(context) {
    const home = context.physicalFilename;
    if (home === "<text>") return {};
    return {
      Program() {
        const { sourceCode } = context;
        const reported = new Set();
        for (const i of importsIn(home, sourceCode.text)) {
          const target = /** @type {string} */ (i.path);
          if (reported.has(target)) continue;
          const chain = pathBack(target, home);
          if (chain === undefined) continue;
          reported.add(target);
          const names = [home, ...chain].map((f) => relative(dirname(home), f) || f);
          context.report({
            loc: { start: sourceCode.getLocFromIndex(i.pos), end: sourceCode.getLocFromIndex(i.end) },
            messageId: "cycle",
            data: { chain: names.join(" → ") },
          });
        }
      },
    };
  },
};
