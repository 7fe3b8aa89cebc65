import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";

export interface Part {
  readonly name: string;
  readonly data: string | Buffer;
  readonly contentType?: string;
}

/** A multipart/form-data body exactly as the langsmith SDK writes it (CompressedRunBuffer). */
export function multipartBody(
  parts: readonly Part[],
  options: { gzip?: boolean } = {},
): { body: Buffer; headers: Record<string, string> } {
  const boundary = `----LangSmithFormBoundary${randomBytes(6).toString("hex")}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const data = Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data);
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"\r\nContent-Type: ${part.contentType ?? `application/json; length=${data.length}`}\r\n\r\n`,
      ),
      data,
      Buffer.from("\r\n"),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  const raw = Buffer.concat(chunks);
  const headers: Record<string, string> = { "content-type": `multipart/form-data; boundary=${boundary}` };
  if (options.gzip) headers["content-encoding"] = "gzip";
  return { body: options.gzip ? gzipSync(raw) : raw, headers };
}

/** The parts the SDK sends for one run operation: the run without its large fields, then those. */
export function runParts(kind: "post" | "patch", run: Record<string, unknown>): Part[] {
  const { inputs, outputs, events, extra, error, serialized, ...rest } = run;
  const parts: Part[] = [{ name: `${kind}.${String(run["id"])}`, data: JSON.stringify(rest) }];
  for (const [field, value] of Object.entries({ inputs, outputs, events, extra, error, serialized })) {
    if (value !== undefined) parts.push({ name: `${kind}.${String(run["id"])}.${field}`, data: JSON.stringify(value) });
  }
  return parts;
}
