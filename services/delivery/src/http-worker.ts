// The HTTP thread (http-thread.ts): builds, signs and sends each attempt it is handed with the ordinary
// sender and answers with the results, batched (http-wire.ts). Its only channel is the parent port.
import { parentPort, workerData } from "node:worker_threads";
import { createAddressPolicy } from "./address-policy.js";
import type { AttemptResult } from "./attempt-result.js";
import { inThreadAttemptSender } from "./attempt-sender.js";
import type { ThreadLifecycleMessage } from "@runhooks/telemetry";
import type { FromHttp, HttpWorkerData, ToHttp } from "./http-thread.js";
import { arrivedTarget, packResults, unpackRequests } from "./http-wire.js";
import { createSender } from "./sender.js";
import type { Target } from "./target.js";

const port = parentPort!;
const data = workerData as HttpWorkerData;
const post = (message: FromHttp | ThreadLifecycleMessage, transfer: ArrayBuffer[] = []) =>
  port.postMessage(message, transfer);

const sender = inThreadAttemptSender(
  createSender({
    policy: createAddressPolicy({ allowPrivate: data.allowPrivate, allowCidrs: data.allowCidrs }),
    deadlineMs: data.deadlineMs,
    connectTimeoutMs: data.connectTimeoutMs,
    connectionsPerOrigin: data.connectionsPerOrigin,
  }),
);
const targets = new Map<number, Target>();

let inFlight = 0;
let stopping = false;
let results: { id: number; result: AttemptResult }[] = [];
let scheduled = false;
const finish = () => void sender.close().finally(() => port.close());
const flush = () => {
  scheduled = false;
  const { batch, transfer } = packResults(results);
  results = [];
  post(batch, transfer);
  if (stopping && inFlight === 0) finish();
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
  switch (m.type) {
    case "stop":
      stopping = true;
      if (inFlight === 0 && !scheduled) finish();
      return;
    case "fail":
      // An uncaught error ends the thread; the parent restarts it (HttpThread.fail).
      throw new Error(m.reason);
    case "forget":
      targets.clear();
      return;
    case "send":
      for (const t of m.targets) targets.set(t.key, arrivedTarget(t));
      for (const { id, request } of unpackRequests(m, targets)) {
        inFlight++;
        sender.send(request).then(
          (result) => answer(id, result),
          (error: unknown) => {
            // The sender turns every failure into a result; this is a bug, reported as one.
            post({
              type: "log",
              level: "error",
              message: "HTTP send failed unexpectedly",
              fields: { error: String(error) },
            });
            answer(id, { kind: "request_failed", error: "the HTTP sender failed unexpectedly" });
          },
        );
      }
  }
});

post({ type: "ready" });
