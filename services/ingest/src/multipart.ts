/**
 * A multipart/form-data reader for the bodies the LangSmith SDKs send to `/runs/multipart`: the whole
 * (already decompressed) body is in memory, so parts are slices of it, never copies.
 */

export interface MultipartPart {
  readonly name: string;
  readonly contentType: string;
  readonly data: Buffer;
}

export type MultipartResult =
  | { readonly ok: true; readonly parts: readonly MultipartPart[] }
  | { readonly ok: false; readonly reason: "malformed"; readonly message: string }
  | { readonly ok: false; readonly reason: "too_many_parts"; readonly limit: number };

/** Parts per body read at most (RUNHOOKS_INGEST_MAX_PARTS): the SDK sends at most ~7 per run operation. */
export const DEFAULT_MAX_PARTS = 10_000;

function malformed(message: string): MultipartResult {
  return { ok: false, reason: "malformed", message };
}

/** The `boundary` parameter of a multipart content type, quoted or not. */
export function boundaryOf(contentType: string): string | undefined {
  const match = /;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

const CR = 13;
const LF = 10;
const HEADER_END = Buffer.from("\r\n\r\n");
const DASH = 45;

/**
 * The value of header `name` (lower case, with its colon) in a part's header block, or undefined.
 * `lower` is the block in lower case: latin1 lower-casing keeps every offset, so values keep their case.
 */
function headerValue(block: string, lower: string, name: string): string | undefined {
  for (let at = lower.indexOf(name); at >= 0; at = lower.indexOf(name, at + 1)) {
    // A header starts the block or follows a CRLF.
    if (at !== 0 && (lower.charCodeAt(at - 1) !== LF || lower.charCodeAt(at - 2) !== CR)) continue;
    const end = block.indexOf("\r\n", at);
    return block.slice(at + name.length, end < 0 ? block.length : end).trim();
  }
  return undefined;
}

/** How the SDKs start a part's headers; such a block is read without lower-casing or searching it. */
const SDK_DISPOSITION = Buffer.from('Content-Disposition: form-data; name="');
const SDK_CONTENT_TYPE = Buffer.from("\r\nContent-Type: ");
const QUOTE = 34;

/**
 * The name and content type of a header block written exactly as the SDKs write it
 * (`Content-Disposition: form-data; name="…"`, then at most a `Content-Type: …` line), or undefined for
 * any other block — which the general reading then takes. Both readings agree on every block this takes.
 */
function sdkHeaders(body: Buffer, start: number, end: number): { name: string; contentType: string } | undefined {
  const nameStart = start + SDK_DISPOSITION.length;
  if (nameStart > end || body.compare(SDK_DISPOSITION, 0, SDK_DISPOSITION.length, start, nameStart) !== 0)
    return undefined;
  const quote = body.indexOf(QUOTE, nameStart);
  if (quote < 0 || quote >= end || quote === nameStart) return undefined;
  const name = body.toString("latin1", nameStart, quote);
  if (quote + 1 === end) return { name, contentType: "text/plain" };
  const typeStart = quote + 1 + SDK_CONTENT_TYPE.length;
  if (typeStart > end || body.compare(SDK_CONTENT_TYPE, 0, SDK_CONTENT_TYPE.length, quote + 1, typeStart) !== 0)
    return undefined;
  const type = body.toString("latin1", typeStart, end);
  return type.includes("\r\n") ? undefined : { name, contentType: type.trim() };
}

function dispositionName(disposition: string): string | undefined {
  const match = /;\s*name=(?:"([^"]*)"|([^\s;]+))/i.exec(disposition);
  return match?.[1] ?? match?.[2];
}

/**
 * The parts of a body, in order. Linear in the body's size: each search starts where the last ended.
 * Stops at `maxParts` parts (the body is refused, not truncated).
 */
export function parseMultipart(body: Buffer, boundary: string, maxParts: number = DEFAULT_MAX_PARTS): MultipartResult {
  const delimiter = Buffer.from(`--${boundary}`);
  const between = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(delimiter);
  if (pos < 0) return malformed("the body does not contain the boundary of its content type");
  const parts: MultipartPart[] = [];
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === DASH && body[pos + 1] === DASH) return { ok: true, parts };
    if (parts.length >= maxParts) return { ok: false, reason: "too_many_parts", limit: maxParts };
    // Transport padding after a delimiter is allowed; then the line ends.
    while (body[pos] === 32 || body[pos] === 9) pos++;
    if (body[pos] !== CR || body[pos + 1] !== LF) {
      return malformed(`part ${parts.length + 1}: no line break after the boundary`);
    }
    pos += 2;
    const headerEnd = body.indexOf(HEADER_END, pos);
    if (headerEnd < 0) return malformed(`part ${parts.length + 1}: headers never end`);
    let headers = sdkHeaders(body, pos, headerEnd);
    if (headers === undefined) {
      const block = body.toString("latin1", pos, headerEnd);
      const lower = block.toLowerCase();
      const disposition = headerValue(block, lower, "content-disposition:");
      const name = disposition === undefined ? undefined : dispositionName(disposition);
      if (name === undefined || name === "") {
        return malformed(`part ${parts.length + 1}: no Content-Disposition name`);
      }
      headers = { name, contentType: headerValue(block, lower, "content-type:") ?? "text/plain" };
    }
    const dataStart = headerEnd + HEADER_END.length;
    const next = body.indexOf(between, dataStart);
    if (next < 0) return malformed(`part ${headers.name}: the body ends before the closing boundary`);
    parts.push({ name: headers.name, contentType: headers.contentType, data: body.subarray(dataStart, next) });
    pos = next + 2;
  }
}
