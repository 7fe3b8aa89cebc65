import { BlockList, isIP } from "node:net";

/**
 * The SSRF guard's address test: which resolved addresses a webhook may connect to. Checked on the
 * address actually connected to (see connector.ts), so a DNS name that resolves to an internal
 * address is refused just like the literal address.
 */

/** Ranges refused by default, with the reason shown in the attempt's error. */
const DENIED: readonly (readonly [string, number, "ipv4" | "ipv6", string])[] = [
  ["0.0.0.0", 8, "ipv4", "unspecified"],
  ["10.0.0.0", 8, "ipv4", "private"],
  ["100.64.0.0", 10, "ipv4", "carrier-grade NAT"],
  ["127.0.0.0", 8, "ipv4", "loopback"],
  ["169.254.0.0", 16, "ipv4", "link-local or cloud metadata"],
  ["172.16.0.0", 12, "ipv4", "private"],
  ["192.0.0.0", 24, "ipv4", "IETF protocol assignments"],
  ["192.168.0.0", 16, "ipv4", "private"],
  ["198.18.0.0", 15, "ipv4", "benchmarking"],
  ["224.0.0.0", 4, "ipv4", "multicast"],
  ["240.0.0.0", 4, "ipv4", "reserved or broadcast"],
  ["::", 128, "ipv6", "unspecified"],
  ["::1", 128, "ipv6", "loopback"],
  ["fc00::", 7, "ipv6", "unique local or cloud metadata"],
  ["fe80::", 10, "ipv6", "link-local"],
  ["fec0::", 10, "ipv6", "site-local"],
  ["ff00::", 8, "ipv6", "multicast"],
];

/** NAT64 (RFC 6052): the IPv4 address is in the last 32 bits, and that is what gets reached. */
const NAT64 = /^64:ff9b::(?:([0-9a-f]{1,4}):([0-9a-f]{1,4})|(\d+\.\d+\.\d+\.\d+))$/i;

export interface AddressPolicyOptions {
  /** Allow every address (a trusted network, or tests): the guard is off. */
  readonly allowPrivate: boolean;
  /** CIDRs (`127.0.0.1/32`, `10.1.0.0/16`, `fd00::/8`) or single addresses allowed despite the deny list. */
  readonly allowCidrs: readonly string[];
}

export interface AddressPolicy {
  /** Why this address is refused, or undefined if it may be connected to. */
  refusal(address: string): string | undefined;
}

function family(address: string): "ipv4" | "ipv6" | undefined {
  const v = isIP(address);
  return v === 4 ? "ipv4" : v === 6 ? "ipv6" : undefined;
}

/** Parses `a.b.c.d/n`, `x::/n` or a bare address; throws on anything else. */
export function parseCidr(text: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } {
  const [address = "", prefixText] = text.trim().split("/");
  const f = family(address);
  if (f === undefined) throw new Error(`${JSON.stringify(text)} is not an IP address or CIDR`);
  const max = f === "ipv4" ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new Error(`${JSON.stringify(text)} has an invalid prefix length`);
  return { address, prefix, family: f };
}

export function createAddressPolicy(options: AddressPolicyOptions): AddressPolicy {
  const denied = DENIED.map(([address, prefix, fam, reason]) => {
    const list = new BlockList();
    list.addSubnet(address, prefix, fam);
    return { list, reason };
  });
  const allowed = new BlockList();
  for (const cidr of options.allowCidrs) {
    const c = parseCidr(cidr);
    allowed.addSubnet(c.address, c.prefix, c.family);
  }

  const deniedReason = (address: string, fam: "ipv4" | "ipv6"): string | undefined =>
    denied.find((d) => d.list.check(address, fam))?.reason;

  return {
    refusal(raw) {
      const address = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
      const fam = family(address);
      if (fam === undefined) return "not an IP address";
      if (options.allowPrivate || allowed.check(address, fam)) return undefined;
      const reason = deniedReason(address, fam);
      if (reason !== undefined) return reason;
      const nat64 = fam === "ipv6" ? NAT64.exec(address) : null;
      if (nat64) {
        const v4 =
          nat64[3] ??
          [parseInt(nat64[1]!, 16) >> 8, parseInt(nat64[1]!, 16) & 255, parseInt(nat64[2]!, 16) >> 8, parseInt(nat64[2]!, 16) & 255].join(".");
        if (allowed.check(v4, "ipv4")) return undefined;
        const inner = deniedReason(v4, "ipv4");
        if (inner !== undefined) return `${inner} (through NAT64)`;
      }
      return undefined;
    },
  };
}
