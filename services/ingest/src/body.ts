import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { brotliDecompress, gunzip, gunzipSync, inflate, type ZlibOptions } from "node:zlib";
import { RunhooksError } from "@runhooks/errors";

const gunzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<Buffer, ZlibOptions, Buffer>(inflate);
const brotliAsync = promisify<Buffer, ZlibOptions, Buffer>(brotliDecompress);

const KIB = 1024;

/**
 * A gzip body that inflates to at most this is inflated in one synchronous call. zlib's asynchronous
 * form hands the work to the thread pool in 16 KiB chunks, each chunk a round of callbacks and copies on
 * the event loop: for the SDK's batches (100 runs, ~150 KiB inflated) that bookkeeping costs three to
 * four times the inflating itself. Inflating 1 MiB at once holds the event loop about 2 ms; larger
 * bodies still go to the thread pool, in chunks sized to the body.
 */
const SYNC_INFLATE_BYTES = 1024 * KIB;

/**
 * Undoes gzip within `limit` bytes. The gzip trailer's last four bytes say how large the body inflates
 * (modulo 2^32, for the last member only): a hint the client writes, so it only picks the way, and the
 * synchronous way stops at SYNC_INFLATE_BYTES whatever the hint says.
 */
async function gunzipWithin(raw: Buffer, limit: number): Promise<Buffer> {
  const hint = raw.length >= 18 ? raw.readUInt32LE(raw.length - 4) : 0;
  if (hint <= SYNC_INFLATE_BYTES) {
    const syncLimit = Math.min(limit, SYNC_INFLATE_BYTES);
    try {
      return gunzipSync(raw, {
        maxOutputLength: syncLimit,
        chunkSize: Math.max(16 * KIB, Math.min(hint + 1, syncLimit)),
      });
    } catch (error) {
      // Larger than the hint said (several members, or a false trailer): the thread pool takes it.
      if (syncLimit === limit || !isTooLarge(error)) throw error;
    }
  }
  return gunzipAsync(raw, {
    maxOutputLength: limit,
    chunkSize: Math.max(64 * KIB, Math.min(hint + 1, 4 * 1024 * KIB, limit)),
  });
}

function isTooLarge(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || error instanceof RangeError;
}

/** A refusal of the body as a whole, answered with its status; sent again as is, it fails again. */
export class BodyError extends RunhooksError {
  readonly retriable = false;
  override readonly name = "BodyError";
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
  return new BodyError(
    413,
    "body_too_large",
    `the body is larger than ${limit} bytes ${what}; send smaller batches (GET /info: batch_ingest_config.size_limit_bytes)`,
  );
}

/** Reads a request body within the limits and undoes its Content-Encoding (gzip, deflate, br). */
export async function readBody(
  stream: Readable,
  headers: { "content-length"?: string; "content-encoding"?: string },
  limits: BodyLimits,
): Promise<Buffer> {
  const declared = Number(headers["content-length"]);
  if (Number.isFinite(declared) && declared > limits.wireBytes) throw tooLarge("as sent", limits.wireBytes);
  const encoding = (headers["content-encoding"] ?? "identity").trim().toLowerCase();
  const inflate_: ((raw: Buffer, limit: number) => Promise<Buffer>) | undefined =
    encoding === "gzip" || encoding === "x-gzip"
      ? gunzipWithin
      : encoding === "deflate"
        ? (raw, limit) => inflateAsync(raw, { maxOutputLength: limit })
        : encoding === "br"
          ? (raw, limit) => brotliAsync(raw, { maxOutputLength: limit })
          : undefined;
  if (inflate_ === undefined && encoding !== "identity" && encoding !== "") {
    throw new BodyError(
      415,
      "unsupported_encoding",
      `Content-Encoding ${encoding} is not supported; use gzip (GET /info says which)`,
    );
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
    return await inflate_(raw, limits.inflatedBytes);
  } catch (error) {
    if (isTooLarge(error)) throw tooLarge("once decompressed", limits.inflatedBytes);
    throw new BodyError(400, "invalid_body", `the body is not valid ${encoding}: ${(error as Error).message}`);
  }
}
