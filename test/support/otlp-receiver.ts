import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** An OTLP/JSON attribute value, as the OTLP/HTTP JSON exporters send it. */
export interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
export interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpAttribute[];
  links?: { traceId: string; spanId: string; attributes?: OtlpAttribute[] }[];
  status?: { code?: number };
}
/** A span with the `service.name` of the resource that sent it. */
export interface ReceivedSpan extends OtlpSpan {
  service: string;
}

/** OTLP span kinds (the protobuf enum, which JSON keeps as numbers). */
export const KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

export function attr(
  span: { attributes?: OtlpAttribute[] },
  key: string,
): string | number | boolean | string[] | undefined {
  const v = span.attributes?.find((a) => a.key === key)?.value;
  if (v === undefined) return undefined;
  if (v.arrayValue)
    return (v.arrayValue.values ?? []).map((x) => String(x.stringValue ?? x.intValue ?? x.doubleValue ?? x.boolValue));
  if (v.intValue !== undefined) return Number(v.intValue);
  return v.stringValue ?? v.doubleValue ?? v.boolValue;
}

/**
 * A real OTLP/HTTP receiver (JSON encoding, what the OTLP/HTTP exporters send by default): keeps every
 * body raw (for the secret scan) and decodes the spans and the names of the metrics it got.
 */
export interface OtlpReceiver {
  readonly url: string;
  readonly bodies: string[];
  readonly spans: ReceivedSpan[];
  /** Metric names exported over OTLP, by service.name. */
  readonly metrics: Map<string, Set<string>>;
  close(): Promise<void>;
}

interface ResourceAttrs {
  resource?: { attributes?: OtlpAttribute[] };
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const bodies: string[] = [];
  const spans: ReceivedSpan[] = [];
  const metrics = new Map<string, Set<string>>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      bodies.push(text);
      if (!String(req.headers["content-type"]).includes("json")) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(text) as {
        resourceSpans?: (ResourceAttrs & { scopeSpans?: { spans?: OtlpSpan[] }[] })[];
        resourceMetrics?: (ResourceAttrs & { scopeMetrics?: { metrics?: { name: string }[] }[] })[];
      };
      if (req.url === "/v1/traces") {
        for (const rs of body.resourceSpans ?? []) {
          const service = String(attr(rs.resource ?? {}, "service.name"));
          for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service });
        }
      } else if (req.url === "/v1/metrics") {
        for (const rm of body.resourceMetrics ?? []) {
          const service = String(attr(rm.resource ?? {}, "service.name"));
          const names = metrics.get(service) ?? new Set<string>();
          metrics.set(service, names);
          for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) names.add(m.name);
        }
      } else {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    spans,
    metrics,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
