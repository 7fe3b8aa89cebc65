import {
  cidr,
  cidrContains,
  cidrWithin,
  embeddedIpv4,
  formatIpv4,
  parseCidrText,
  parseIp,
  type Cidr,
  type IpAddress,
} from "./ip-address.js";

/**
 * The SSRF guard's address test: which resolved addresses a webhook may connect to. Checked on the
 * address actually connected to (see connector.ts), so a DNS name that resolves to an internal
 * address is refused just like the literal address. A pure function of the address and the options.
 *
 * Three classes of ranges (DESIGN.md §5, docs/limits.md):
 * - METADATA: cloud instance-metadata and platform endpoints. Refused always; only an allowed CIDR
 *   that lies inside the range opens it (`169.254.169.254/32` does, `0.0.0.0/0` does not), and
 *   `allowPrivate` never does: one of these answering a webhook hands out the host's credentials.
 * - DENIED: loopback, private, link-local, CGNAT, reserved, documentation… and the IPv6 transition
 *   forms that are never a public destination. Refused unless `allowPrivate`, or an allowed CIDR
 *   covers the address.
 * - IPv6 forms that embed an IPv4 address (mapped, translated, compatible, NAT64, 6to4, Teredo) are
 *   judged by that IPv4 address too, since that is what the connection reaches.
 */

type Range = readonly [cidr: string, reason: string];

const METADATA: readonly Range[] = [
  // AWS, GCP, Azure, OCI, DigitalOcean… (169.254.169.254), ECS / EKS credentials (169.254.170.2 /
  // .23), Tencent (169.254.0.23): the whole link-local block, cloud platforms live all over it.
  ["169.254.0.0/16", "link-local or cloud metadata"],
  ["100.100.100.200/32", "cloud metadata (Alibaba Cloud)"],
  ["192.0.0.192/32", "cloud metadata (Oracle Cloud)"],
  ["168.63.129.16/32", "cloud metadata (Azure WireServer)"],
  ["fd00:ec2::/32", "cloud metadata (AWS)"],
  ["fd20:ce::254/128", "cloud metadata (Google Cloud)"],
];

const DENIED: readonly Range[] = [
  ["0.0.0.0/8", "unspecified"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "carrier-grade NAT"],
  ["127.0.0.0/8", "loopback"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "IETF protocol assignments"],
  ["192.0.2.0/24", "documentation"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved or broadcast"],
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["::/96", "IPv4-compatible (deprecated)"],
  ["::ffff:0:0:0/96", "IPv4-translated"],
  ["64:ff9b:1::/48", "local-use NAT64"],
  ["100::/64", "discard-only"],
  ["2001::/32", "Teredo"],
  ["2001:db8::/32", "documentation"],
  ["3fff::/20", "documentation"],
  ["fc00::/7", "unique local"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "site-local"],
  ["ff00::/8", "multicast"],
];

const compile = (ranges: readonly Range[]) => ranges.map(([text, reason]) => ({ range: cidr(text), reason }));
const METADATA_RANGES = compile(METADATA);
const DENIED_RANGES = compile(DENIED);

export interface AddressPolicyOptions {
  /**
   * Allow loopback, private, link-local IPv6 and the other DENIED ranges (a trusted network, or
   * tests). Never opens the METADATA ranges.
   */
  readonly allowPrivate: boolean;
  /**
   * CIDRs (`127.0.0.1/32`, `10.1.0.0/16`, `fd00::/8`) or single addresses allowed despite the deny
   * list. A metadata range is opened only by a CIDR that lies inside it.
   */
  readonly allowCidrs: readonly string[];
}

export interface AddressPolicy {
  /** Why this address is refused, or undefined if it may be connected to. */
  refusal(address: string): string | undefined;
}

/** Parses `a.b.c.d/n`, `x::/n` or a bare address; throws on anything else. */
export function parseCidr(text: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } {
  const c = parseCidrText(text);
  return { address: c.address, prefix: c.prefix, family: c.family === 4 ? "ipv4" : "ipv6" };
}

/** Why `ip` is refused, or undefined; `outer` is the address connected to (`ip` itself, or the IPv6 form embedding it). */
function judge(ip: IpAddress, allowed: readonly Cidr[], allowPrivate: boolean, outer: IpAddress): string | undefined {
  const metadata = METADATA_RANGES.find((m) => cidrContains(m.range, ip));
  if (metadata !== undefined) {
    const opened = allowed.some((a) => cidrWithin(a, metadata.range) && cidrContains(a, ip));
    return opened ? undefined : metadata.reason;
  }
  if (allowPrivate || allowed.some((a) => cidrContains(a, ip) || cidrContains(a, outer))) return undefined;
  return DENIED_RANGES.find((d) => cidrContains(d.range, ip))?.reason;
}

export function createAddressPolicy(options: AddressPolicyOptions): AddressPolicy {
  const allowed = options.allowCidrs.map((text) => cidr(text));
  return {
    refusal(raw) {
      const ip = parseIp(raw);
      if (ip === undefined) return "not an IP address";
      // The embedded IPv4 address first: its reason says more than the form's.
      for (const { form, ipv4 } of embeddedIpv4(ip)) {
        const reason = judge(ipv4, allowed, options.allowPrivate, ip);
        if (reason !== undefined) return `${reason} (${form} of ${formatIpv4(ipv4.value)})`;
      }
      return judge(ip, allowed, options.allowPrivate, ip);
    },
  };
}
