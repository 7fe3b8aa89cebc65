import { isIP } from "node:net";

/**
 * IP addresses as numbers, for the SSRF guard: parsing, CIDR containment and the IPv4 addresses that
 * IPv6 transition forms carry inside them. Pure functions of their arguments.
 */

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  /** The address as an unsigned 32-bit (IPv4) or 128-bit (IPv6) number. */
  readonly value: bigint;
}

export interface Cidr {
  readonly family: IpFamily;
  /** The network address (host bits zero). */
  readonly value: bigint;
  readonly prefix: number;
}

const bitsOf = (family: IpFamily): number => (family === 4 ? 32 : 128);

function parseIpv4(text: string): bigint {
  return text.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

/** `text` must already be a valid IPv6 address (isIP); a zone (`%eth0`) is ignored. */
function parseIpv6(text: string): bigint {
  let body = text.split("%")[0]!;
  // A trailing dotted quad stands for the last two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (dotted) {
    const v4 = parseIpv4(dotted[1]!);
    body = `${body.slice(0, -dotted[1]!.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = "", tail] = body.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** An address as a resolver or a URL gives it (`[::1]` too); undefined if it is not an IP address. */
export function parseIp(raw: string): IpAddress | undefined {
  const text = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
  const v = isIP(text);
  if (v === 4) return { family: 4, value: parseIpv4(text) };
  if (v === 6) return { family: 6, value: parseIpv6(text) };
  return undefined;
}

export function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join(".");
}

/** Parses `a.b.c.d/n`, `x::/n` or a bare address (a /32 or /128); throws on anything else. */
export function parseCidrText(text: string): Cidr & { readonly address: string } {
  const [address = "", prefixText] = text.trim().split("/");
  const ip = parseIp(address);
  if (ip === undefined) throw new Error(`${JSON.stringify(text)} is not an IP address or CIDR`);
  const max = bitsOf(ip.family);
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefixText === "" || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new Error(`${JSON.stringify(text)} has an invalid prefix length`);
  }
  return { address, family: ip.family, prefix, value: networkOf(ip.value, prefix, ip.family) };
}

function networkOf(value: bigint, prefix: number, family: IpFamily): bigint {
  const hostBits = BigInt(bitsOf(family) - prefix);
  return (value >> hostBits) << hostBits;
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  return cidr.family === ip.family && networkOf(ip.value, cidr.prefix, cidr.family) === cidr.value;
}

/** Whether every address of `inner` lies in `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return (
    inner.family === outer.family &&
    inner.prefix >= outer.prefix &&
    networkOf(inner.value, outer.prefix, outer.family) === outer.value
  );
}

export function cidr(text: string): Cidr {
  const { family, value, prefix } = parseCidrText(text);
  return { family, value, prefix };
}

/** An IPv4 address an IPv6 address carries, and the transition form that carries it. */
export interface EmbeddedIpv4 {
  readonly form: string;
  readonly ipv4: IpAddress;
}

const low32 = (v: bigint): IpAddress => ({ family: 4, value: v & 0xffff_ffffn });
const bitsAt = (v: bigint, from: number, count: number): bigint =>
  (v >> BigInt(128 - from - count)) & ((1n << BigInt(count)) - 1n);

const MAPPED = cidr("::ffff:0:0/96");
const TRANSLATED = cidr("::ffff:0:0:0/96");
const COMPATIBLE = cidr("::/96");
const NAT64_WELL_KNOWN = cidr("64:ff9b::/96");
const NAT64_LOCAL_USE = cidr("64:ff9b:1::/48");
const SIX_TO_FOUR = cidr("2002::/16");
const TEREDO = cidr("2001::/32");

/**
 * Every IPv4 address that connecting to this IPv6 address may reach, by the transition forms that
 * embed one: IPv4-mapped and IPv4-translated (low 32 bits), IPv4-compatible (low 32 bits; `::` and
 * `::1` excepted), NAT64 well-known and local-use (low 32 bits, the /96 form), 6to4 (bits 16–47)
 * and Teredo (the server, bits 32–63, and the client, the low 32 bits inverted). Empty for an IPv4
 * address or a plain IPv6 one.
 */
export function embeddedIpv4(ip: IpAddress): EmbeddedIpv4[] {
  if (ip.family !== 6) return [];
  const v = ip.value;
  if (cidrContains(MAPPED, ip)) return [{ form: "IPv4-mapped", ipv4: low32(v) }];
  if (cidrContains(TRANSLATED, ip)) return [{ form: "IPv4-translated", ipv4: low32(v) }];
  if (cidrContains(COMPATIBLE, ip)) return v <= 1n ? [] : [{ form: "IPv4-compatible", ipv4: low32(v) }];
  if (cidrContains(NAT64_WELL_KNOWN, ip)) return [{ form: "NAT64", ipv4: low32(v) }];
  // A local-use translator may also embed at /48–/64 (RFC 6052); only the /96 form is decoded, and
  // the whole /48 is refused unless private destinations are allowed.
  if (cidrContains(NAT64_LOCAL_USE, ip)) return [{ form: "local-use NAT64", ipv4: low32(v) }];
  if (cidrContains(SIX_TO_FOUR, ip)) return [{ form: "6to4", ipv4: { family: 4, value: bitsAt(v, 16, 32) } }];
  if (cidrContains(TEREDO, ip)) {
    return [
      { form: "Teredo server", ipv4: { family: 4, value: bitsAt(v, 32, 32) } },
      { form: "Teredo client", ipv4: { family: 4, value: ~v & 0xffff_ffffn } },
    ];
  }
  return [];
}
