import type { AttemptResult } from "./attempt-result.js";
import { attemptHeaders, type AttemptHeaderInput } from "./request-headers.js";
import type { Sender } from "./sender.js";

/** One attempt to POST: what its headers and signature are made of, and its body. */
export type AttemptRequest = AttemptHeaderInput;

/** Builds an attempt's headers, signs it and POSTs it: in this thread or another (http-thread.ts). */
export interface AttemptSender {
  send(request: AttemptRequest): Promise<AttemptResult>;
  close(): Promise<void>;
}

/** Attempts sent by a sender on this thread. */
export function inThreadAttemptSender(sender: Sender): AttemptSender {
  return {
    send: (r) => sender.send({ target: r.target, headers: attemptHeaders(r), body: r.body }),
    close: () => sender.close(),
  };
}
