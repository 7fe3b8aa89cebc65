import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { brotliDecompress, gunzip, inflate } from "node:zlib";

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const brotliAsync = promisify(brotliDecompress);

/** A refusal of the body as a whole, answered with its status. */
export class BodyError extends Error {
  constructor(
    readonly statusCode: 400 | 413 | 415,
    readonly code: "body_too_large" | "unsupported_encoding" | "invalid_body",
    message: string,
  ) {
    super(message);
  }
}

export interface BodyLimits {
  /** Bytes as sent (compressed or not): the limit /info advertises. */
  readonly wireBytes: number;
  /** Bytes once decompressed: a compressed body may inflate this far and no further. */
  readonly inflatedBytes: number;
}

function tooLarge(what: string, limit: number): BodyError {
  return new BodyError(413, "body_too_large", `the body is larger than ${limit} bytes ${what}; send smaller batches (GET /info: batch_ingest_config.size_limit_bytes)`);
}

/** Reads a request body within the limits and undoes its Content-Encoding (gzip, deflate, br). */
export async function readBody(stream: Readable, headers: { "content-length"?: string; "content-encoding"?: string }, limits: BodyLimits): Promise<Buffer> {
  const declared = Number(headers["content-length"]);
  if (Number.isFinite(declared) && declared > limits.wireBytes) throw tooLarge("as sent", limits.wireBytes);
  const encoding = (headers["content-encoding"] ?? "identity").trim().toLowerCase();
  const inflate_ =
    encoding === "gzip" || encoding === "x-gzip" ? gunzipAsync : encoding === "deflate" ? inflateAsync : encoding === "br" ? brotliAsync : undefined;
  if (inflate_ === undefined && encoding !== "identity" && encoding !== "") {
    throw new BodyError(415, "unsupported_encoding", `Content-Encoding ${encoding} is not supported; use gzip (GET /info says which)`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size <= limits.wireBytes) {
      chunks.push(buf);
    } else if (size > 2 * limits.wireBytes) {
      // Drained this far so the client reads the 413 rather than a reset; no further.
      stream.destroy();
      break;
    }
  }
  if (size > limits.wireBytes) throw tooLarge("as sent", limits.wireBytes);
  const raw = Buffer.concat(chunks, size);
  if (inflate_ === undefined) return raw;
  try {
    return await inflate_(raw, { maxOutputLength: limits.inflatedBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError) throw tooLarge("once decompressed", limits.inflatedBytes);
    throw new BodyError(400, "invalid_body", `the body is not valid ${encoding}: ${(error as Error).message}`);
  }
}
