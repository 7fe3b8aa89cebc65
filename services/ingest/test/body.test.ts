import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { readBody } from "../src/body.js";
import { describe, expect, it } from "vitest";

const MIB = 1024 * 1024;
const limits = { wireBytes: 4 * MIB, inflatedBytes: 8 * MIB };

function read(body: Buffer, encoding = "gzip") {
  return readBody(
    Readable.from([body]),
    { "content-length": String(body.length), "content-encoding": encoding },
    limits,
  );
}

/** Distinct lines, so the inflated bytes are checked in full, not only their length. */
function text(bytes: number): Buffer {
  const lines: string[] = [];
  for (let i = 0, n = 0; n < bytes; i++) {
    const line = `line ${i}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join("").slice(0, bytes));
}

describe("reading gzip bodies", () => {
  it.each([
    ["small (inflated at once)", 150 * 1024],
    ["just over the at-once size", MIB + 1],
    ["large (inflated on the thread pool)", 5 * MIB],
  ])("%s: inflates byte for byte", async (_name, size) => {
    const raw = text(size);
    expect((await read(gzipSync(raw))).equals(raw)).toBe(true);
  });

  it("inflates in full a body whose trailer names a small size: gzip members before the last one", async () => {
    // The trailer gives the last member's size only (here 10 bytes): the at-once attempt stops at its
    // cap, and the thread pool inflates the whole body.
    const raw = text(3 * MIB);
    const members = Buffer.concat([
      gzipSync(raw.subarray(0, raw.length - 10)),
      gzipSync(raw.subarray(raw.length - 10)),
    ]);
    expect(members.readUInt32LE(members.length - 4)).toBe(10);
    expect((await read(members)).equals(raw)).toBe(true);
  });

  it("refuses with 400 a body whose trailer lies about its size (zlib checks it)", async () => {
    const lying = gzipSync(text(3 * MIB));
    lying.writeUInt32LE(100, lying.length - 4);
    await expect(read(lying)).rejects.toMatchObject({ statusCode: 400, code: "invalid_body" });
  });

  it("refuses a body inflating past the limit with 413, whichever way it is inflated", async () => {
    for (const bomb of [
      gzipSync(Buffer.alloc(9 * MIB, 32)),
      Buffer.concat([gzipSync(Buffer.alloc(10, 32)), gzipSync(Buffer.alloc(9 * MIB, 32))]),
    ]) {
      await expect(read(bomb)).rejects.toMatchObject({ statusCode: 413, code: "body_too_large" });
    }
  });

  it("refuses a body that is not gzip with 400", async () => {
    await expect(read(Buffer.from("not gzip at all, but long enough"))).rejects.toMatchObject({
      statusCode: 400,
      code: "invalid_body",
    });
  });
});
