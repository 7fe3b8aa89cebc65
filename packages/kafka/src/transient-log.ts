/**
 * kafkajs logs, at ERROR, every broker response that carries an error code — also the ones it expects
 * and retries by itself, which a freshly started broker answers for a few seconds (its group coordinator
 * loading, a leader election). Printed as errors, they make a healthy start look broken.
 */
const TRANSIENT_RESPONSE_ERRORS = [
  "The coordinator is loading",
  "The group coordinator is not available",
  "This is not the correct coordinator",
  "There is no leader for this topic-partition",
  "This server does not host this topic-partition",
  "The broker is not available",
];

/** True for a kafkajs log line about a broker response kafkajs itself retries (see above). */
export function isTransientResponseLog(message: string, fields: Readonly<Record<string, unknown>>): boolean {
  if (fields["namespace"] !== "Connection" || !message.startsWith("Response ")) return false;
  const error = fields["error"];
  return typeof error === "string" && TRANSIENT_RESPONSE_ERRORS.some((text) => error.startsWith(text));
}
