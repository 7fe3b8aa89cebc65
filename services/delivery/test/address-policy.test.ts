import { describe, expect, it } from "vitest";
import { createAddressPolicy, parseCidr } from "../src/address-policy.js";

const strict = createAddressPolicy({ allowPrivate: false, allowCidrs: [] });
const open = createAddressPolicy({ allowPrivate: true, allowCidrs: [] });

describe("the SSRF address policy, by default", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.1.2.3", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.5.4", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local or cloud metadata"],
    ["169.254.170.2", "link-local or cloud metadata"],
    ["169.254.1.1", "link-local or cloud metadata"],
    ["100.100.100.200", "cloud metadata (Alibaba Cloud)"],
    ["192.0.0.192", "cloud metadata (Oracle Cloud)"],
    ["168.63.129.16", "cloud metadata (Azure WireServer)"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["0.0.0.0", "unspecified"],
    ["192.0.2.10", "documentation"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved or broadcast"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::", "unspecified"],
    ["fd00:ec2::254", "cloud metadata (AWS)"],
    ["fd00:ec2::23", "cloud metadata (AWS)"],
    ["fd20:ce::254", "cloud metadata (Google Cloud)"],
    ["fc00::1", "unique local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["ff02::1", "multicast"],
    ["100::1", "discard-only"],
    ["2001:db8::1", "documentation"],
    // IPv6 forms that embed an IPv4 address are judged by it.
    ["::ffff:127.0.0.1", "loopback (IPv4-mapped of 127.0.0.1)"],
    ["::ffff:7f00:1", "loopback (IPv4-mapped of 127.0.0.1)"],
    ["::ffff:a9fe:a9fe", "link-local or cloud metadata (IPv4-mapped of 169.254.169.254)"],
    ["::127.0.0.1", "loopback (IPv4-compatible of 127.0.0.1)"],
    ["::a9fe:a9fe", "link-local or cloud metadata (IPv4-compatible of 169.254.169.254)"],
    ["::ffff:0:7f00:1", "loopback (IPv4-translated of 127.0.0.1)"],
    ["::ffff:0:10.0.0.1", "private (IPv4-translated of 10.0.0.1)"],
    ["64:ff9b::a9fe:a9fe", "link-local or cloud metadata (NAT64 of 169.254.169.254)"],
    ["64:ff9b::10.0.0.1", "private (NAT64 of 10.0.0.1)"],
    ["64:ff9b:1::7f00:1", "loopback (local-use NAT64 of 127.0.0.1)"],
    ["2002:7f00:1::", "loopback (6to4 of 127.0.0.1)"],
    ["2002:a9fe:a9fe::1", "link-local or cloud metadata (6to4 of 169.254.169.254)"],
    ["2002:c0a8:101:1::1", "private (6to4 of 192.168.1.1)"],
    ["2001:0:7f00:1::1", "loopback (Teredo server of 127.0.0.1)"],
    // Teredo's client address is stored inverted: ~0x7f000001 = 0x80fffffe.
    ["2001:0:808:808::80ff:fffe", "loopback (Teredo client of 127.0.0.1)"],
  ])("refuses %s: %s", (address, reason) => {
    expect(strict.refusal(address)).toBe(reason);
  });

  it.each([
    // Forms that never reach a public host are refused even around a public IPv4 address.
    ["::8.8.8.8", "IPv4-compatible (deprecated)"],
    ["::ffff:0:8.8.8.8", "IPv4-translated"],
    ["64:ff9b:1::808:808", "local-use NAT64"],
    ["2001:0:808:808::f7f7:f7f7", "Teredo"],
  ])("refuses the transition form %s even around a public address: %s", (address, reason) => {
    expect(strict.refusal(address)).toBe(reason);
  });

  it.each([
    "93.184.216.34",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "169.255.0.1",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
  ])("allows the public address %s", (address) => {
    expect(strict.refusal(address)).toBeUndefined();
  });

  it("refuses what is not an IP address", () => {
    expect(strict.refusal("localhost")).toBe("not an IP address");
    expect(strict.refusal("")).toBe("not an IP address");
  });
});

describe("the SSRF address policy, with RUNHOOKS_DELIVERY_ALLOW_PRIVATE", () => {
  it.each([
    "127.0.0.1",
    "10.0.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "::1",
    "fc00::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "2002:7f00:1::",
    "64:ff9b::10.0.0.1",
  ])("allows the internal address %s", (address) => {
    expect(open.refusal(address)).toBeUndefined();
  });

  it.each([
    "169.254.169.254",
    "169.254.170.2",
    "100.100.100.200",
    "192.0.0.192",
    "168.63.129.16",
    "fd00:ec2::254",
    "fd20:ce::254",
    "::ffff:169.254.169.254",
    "::169.254.169.254",
    "::ffff:0:169.254.169.254",
    "64:ff9b::169.254.169.254",
    "64:ff9b:1::a9fe:a9fe",
    "2002:a9fe:a9fe::",
    "2001:0:a9fe:a9fe::1",
    "2001:0:808:808::5601:5601",
  ])("still refuses the metadata address %s", (address) => {
    expect(open.refusal(address)).toMatch(/metadata/);
  });
});

describe("the SSRF address policy, with RUNHOOKS_DELIVERY_ALLOW_CIDRS", () => {
  it("lets configured CIDRs through, and only those", () => {
    const p = createAddressPolicy({ allowPrivate: false, allowCidrs: ["127.0.0.1/32", "10.1.0.0/16", "fd12::/16"] });
    expect(p.refusal("127.0.0.1")).toBeUndefined();
    expect(p.refusal("::ffff:127.0.0.1")).toBeUndefined();
    expect(p.refusal("127.0.0.2")).toBe("loopback");
    expect(p.refusal("10.1.200.3")).toBeUndefined();
    expect(p.refusal("10.2.0.1")).toBe("private");
    expect(p.refusal("fd12::5")).toBeUndefined();
    expect(p.refusal("169.254.169.254")).toBeDefined();
  });

  it.each([
    [["169.254.169.254/32"], "169.254.169.254", undefined],
    [["169.254.169.254"], "::ffff:169.254.169.254", undefined],
    [["169.254.169.254/32"], "169.254.169.253", "link-local or cloud metadata"],
    [["169.254.0.0/16"], "169.254.170.2", undefined],
    [["100.100.100.200/32"], "100.100.100.200", undefined],
    [["fd00:ec2::254/128"], "fd00:ec2::254", undefined],
    [["fd00:ec2::254/128"], "fd00:ec2::23", "cloud metadata (AWS)"],
    // A CIDR wider than the metadata range does not list it explicitly.
    [["0.0.0.0/0"], "169.254.169.254", "link-local or cloud metadata"],
    [["169.0.0.0/8"], "169.254.169.254", "link-local or cloud metadata"],
    [["100.64.0.0/10"], "100.100.100.200", "cloud metadata (Alibaba Cloud)"],
    [["::/0"], "fd00:ec2::254", "cloud metadata (AWS)"],
    [["fd00::/8"], "fd00:ec2::254", "cloud metadata (AWS)"],
    [["2002::/16"], "2002:a9fe:a9fe::", "link-local or cloud metadata (6to4 of 169.254.169.254)"],
  ] as const)("with %j, %s is %s", (allowCidrs, address, reason) => {
    const p = createAddressPolicy({ allowPrivate: false, allowCidrs });
    expect(p.refusal(address)).toBe(reason);
    const withPrivate = createAddressPolicy({ allowPrivate: true, allowCidrs });
    expect(withPrivate.refusal(address)).toBe(reason);
  });

  it("parses CIDRs and refuses junk", () => {
    expect(parseCidr("127.0.0.1")).toEqual({ address: "127.0.0.1", prefix: 32, family: "ipv4" });
    expect(parseCidr("fd00::/8")).toEqual({ address: "fd00::", prefix: 8, family: "ipv6" });
    expect(() => parseCidr("localhost")).toThrow();
    expect(() => parseCidr("10.0.0.0/33")).toThrow();
    expect(() => parseCidr("10.0.0.0/")).toThrow();
    expect(() => parseCidr("fd00::/129")).toThrow();
  });
});
