import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { RunhooksError } from "@runhooks/errors";
import { buildConnector } from "undici";
import type { AddressPolicy } from "./address-policy.js";

/** The code of a connection refused by the SSRF guard; the sender maps it to the outcome `ssrf_blocked`. */
export const SSRF_BLOCKED = "ssrf_blocked";

/** The webhook's host is, or resolves only to, an address the policy refuses: retrying cannot help. */
export class SsrfBlockedError extends RunhooksError {
  readonly code = SSRF_BLOCKED;
  readonly retriable = false;
  override readonly name = "SsrfBlockedError";
}

/**
 * A DNS lookup that drops the addresses the policy refuses, so the socket can only connect to an
 * allowed one; if none is left, the connection fails with `SsrfBlockedError`. Works for both forms
 * net.connect uses (`all: true` with happy eyeballs, or a single address).
 */
export function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, "", 0);
        return;
      }
      const allowed = addresses.filter((a) => policy.refusal(a.address) === undefined);
      if (allowed.length === 0) {
        const reasons = [...new Set(addresses.map((a) => `${a.address} (${policy.refusal(a.address)})`))].join(", ");
        callback(new SsrfBlockedError(`${hostname} resolves only to refused addresses: ${reasons}`), "", 0);
        return;
      }
      if (options.all === true) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      } else {
        callback(null, allowed[0]!.address, allowed[0]!.family);
      }
    });
  };
}

export interface GuardedConnectorOptions {
  readonly policy: AddressPolicy;
  /** How long establishing a connection (TCP and TLS) may take; counts as a failure to connect. */
  readonly connectTimeoutMs: number;
}

/**
 * undici's connector with the SSRF guard: an IP-literal host is checked directly (net.connect does
 * not look literals up), a name is resolved through `guardedLookup`.
 */
export function guardedConnector(o: GuardedConnectorOptions): buildConnector.connector {
  const connect = buildConnector({ timeout: o.connectTimeoutMs, lookup: guardedLookup(o.policy) });
  return (options, callback) => {
    if (isIP(options.hostname) !== 0) {
      const refusal = o.policy.refusal(options.hostname);
      if (refusal !== undefined) {
        callback(new SsrfBlockedError(`${options.hostname} is a ${refusal} address`), null);
        return;
      }
    }
    connect(options, callback);
  };
}
