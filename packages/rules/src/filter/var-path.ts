/**
 * `var` paths are walked with plain property access, as json-logic-js does; these segments would
 * leave the data for the prototype chain (`constructor.constructor` is `Function`), so they are
 * refused on write and never resolved at run time.
 */
export const FORBIDDEN_PATH_SEGMENTS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** The first forbidden segment of a dotted path, if any. */
export function forbiddenSegment(path: string): string | undefined {
  for (const segment of path.split(".")) {
    if (FORBIDDEN_PATH_SEGMENTS.has(segment)) return segment;
  }
  return undefined;
}

/**
 * json-logic-js's `var` once its operands are evaluated: `path` of undefined, `""` or null is the
 * whole data; otherwise `String(path)` split on dots is walked, and a null/undefined step or an
 * undefined value yields `fallback` (null when absent). Strings and arrays are walked too
 * (`name.length`, `tags.0`). The one deliberate difference: a forbidden segment (only reachable
 * through a path computed at run time) resolves as not found instead of entering the prototype chain.
 */
export function resolveVar(data: unknown, path: unknown, fallback: unknown): unknown {
  const notFound = fallback === undefined ? null : fallback;
  if (path === undefined || path === "" || path === null) return data;
  let current = data;
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- upstream stringifies any path, arrays and objects too
  for (const segment of String(path).split(".")) {
    if (current === null || current === undefined) return notFound;
    if (FORBIDDEN_PATH_SEGMENTS.has(segment)) return notFound;
    current = (current as Record<string, unknown>)[segment];
    if (current === undefined) return notFound;
  }
  return current;
}

/**
 * A resolver for a path known when the filter is compiled (already split; checked by validation,
 * and checked again here so that an unvalidated path still cannot reach the prototype chain).
 */
export function pathResolver(path: string): (data: unknown, notFound: unknown) => unknown {
  if (path === "") return (data) => data;
  if (forbiddenSegment(path) !== undefined) return (_data, notFound) => notFound;
  const segments = path.split(".");
  const [only] = segments;
  if (segments.length === 1 && only !== undefined) {
    return (data, notFound) => {
      if (data === null || data === undefined) return notFound;
      const value = (data as Record<string, unknown>)[only];
      return value === undefined ? notFound : value;
    };
  }
  return (data, notFound) => {
    let current = data;
    for (const segment of segments) {
      if (current === null || current === undefined) return notFound;
      current = (current as Record<string, unknown>)[segment];
      if (current === undefined) return notFound;
    }
    return current;
  };
}
