/**
 * Waits for a send at most `timeoutMs`: past it, rejects with `timeoutError()` and stops waiting. The
 * send is not cancelled (kafkajs cannot): if it lands later its messages are in Kafka anyway, which an
 * at-least-once caller tolerates; if it fails later, that failure is ignored here (nobody waits).
 */
export async function acknowledgedWithin<T>(
  send: Promise<T>,
  timeoutMs: number,
  timeoutError: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), timeoutMs);
  });
  send.catch(() => undefined);
  try {
    return await Promise.race([send, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
