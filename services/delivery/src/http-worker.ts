// The HTTP thread (http-thread.ts): sends each request it is handed with the ordinary sender and
// answers with the results, batched. Its only channel is the parent port.
import { parentPort, workerData } from "node:worker_threads";
import { createAddressPolicy } from "./address-policy.js";
import type { AttemptResult } from "./attempt-result.js";
import type { FromHttp, HttpWorkerData, ToHttp } from "./http-thread.js";
import { createSender } from "./sender.js";

const port = parentPort!;
const data = workerData as HttpWorkerData;
const post = (message: FromHttp) => port.postMessage(message);

const sender = createSender({
  policy: createAddressPolicy({ allowPrivate: data.allowPrivate, allowCidrs: data.allowCidrs }),
  deadlineMs: data.deadlineMs,
  connectTimeoutMs: data.connectTimeoutMs,
  connectionsPerOrigin: data.connectionsPerOrigin,
});

let inFlight = 0;
let stopping = false;
let results: { id: number; result: AttemptResult }[] = [];
let scheduled = false;
const flush = () => {
  scheduled = false;
  const out = results;
  results = [];
  post({ type: "done", results: out });
  if (stopping && inFlight === 0) void sender.close().finally(() => port.close());
};
const answer = (id: number, result: AttemptResult) => {
  inFlight--;
  results.push({ id, result });
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
};

port.on("message", (m: ToHttp) => {
  if (m.type === "stop") {
    stopping = true;
    if (inFlight === 0 && !scheduled) void sender.close().finally(() => port.close());
    return;
  }
  const buffer = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
  let start = 0;
  for (let i = 0; i < m.requests.length; i++) {
    const r = m.requests[i]!;
    const end = m.ends[i]!;
    const body = buffer.subarray(start, end);
    start = end;
    inFlight++;
    sender
      .send({ target: { origin: r.origin, path: r.path, secrets: r.secrets }, headers: r.headers, body })
      .then(
        (result) => answer(r.id, result),
        (error: unknown) => {
          // The sender turns every failure into a result; this is a bug, reported as one.
          post({ type: "log", level: "error", message: "HTTP send failed unexpectedly", fields: { error: String(error) } });
          answer(r.id, { kind: "request_failed", error: "the HTTP sender failed unexpectedly" });
        },
      );
  }
});

post({ type: "ready" });
