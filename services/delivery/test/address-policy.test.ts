import { describe, expect, it } from "vitest";
import { createAddressPolicy, parseCidr } from "@runhooks/delivery";

describe("the SSRF address policy", () => {
  const strict = createAddressPolicy({ allowPrivate: false, allowCidrs: [] });

  it.each([
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.1",
    "172.16.5.4",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.1.1",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fd00:ec2::254",
    "fc00::1",
    "fe80::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:a9fe:a9fe",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b::10.0.0.1",
    "[::1]",
  ])("refuses %s", (address) => {
    expect(strict.refusal(address)).toBeDefined();
  });

  it.each(["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])(
    "allows the public address %s",
    (address) => {
      expect(strict.refusal(address)).toBeUndefined();
    },
  );

  it("names why", () => {
    expect(strict.refusal("169.254.169.254")).toMatch(/metadata/);
    expect(strict.refusal("fd00:ec2::254")).toMatch(/metadata/);
    expect(strict.refusal("127.0.0.1")).toBe("loopback");
  });

  it("lets configured CIDRs through, and only those", () => {
    const p = createAddressPolicy({ allowPrivate: false, allowCidrs: ["127.0.0.1/32", "10.1.0.0/16", "fd12::/16"] });
    expect(p.refusal("127.0.0.1")).toBeUndefined();
    expect(p.refusal("127.0.0.2")).toBe("loopback");
    expect(p.refusal("10.1.200.3")).toBeUndefined();
    expect(p.refusal("10.2.0.1")).toBe("private");
    expect(p.refusal("fd12::5")).toBeUndefined();
    expect(p.refusal("169.254.169.254")).toBeDefined();
  });

  it("is off with allowPrivate", () => {
    const open = createAddressPolicy({ allowPrivate: true, allowCidrs: [] });
    expect(open.refusal("127.0.0.1")).toBeUndefined();
    expect(open.refusal("169.254.169.254")).toBeUndefined();
  });

  it("parses CIDRs and refuses junk", () => {
    expect(parseCidr("127.0.0.1")).toEqual({ address: "127.0.0.1", prefix: 32, family: "ipv4" });
    expect(parseCidr("fd00::/8")).toEqual({ address: "fd00::", prefix: 8, family: "ipv6" });
    expect(() => parseCidr("localhost")).toThrow();
    expect(() => parseCidr("10.0.0.0/33")).toThrow();
  });
});
