import { createServer, type Server } from "node:http";

export interface HttpEndpoints {
  /** Undefined when healthy; otherwise why not (answered with 503). */
  readonly health: () => string | undefined;
  /** Prometheus text format. */
  readonly metrics: () => string | Promise<string>;
}

/** `/healthz` and `/metrics` on a small HTTP server; resolves with the bound URL. */
export async function startHttp(
  host: string,
  port: number,
  endpoints: HttpEndpoints,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === "/healthz") {
      const problem = endpoints.health();
      res.writeHead(problem === undefined ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify(problem === undefined ? { status: "ok" } : { status: "unhealthy", reason: problem }));
    } else if (req.url === "/metrics") {
      Promise.resolve()
        .then(() => endpoints.metrics())
        .then(
          (text) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(text),
          (error: unknown) =>
            res.writeHead(500, { "content-type": "text/plain" }).end(`metrics collection failed: ${String(error)}\n`),
        );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const bound = typeof address === "object" && address !== null ? address.port : port;
  return { url: `http://${host}:${bound}`, server };
}
