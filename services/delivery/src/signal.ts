/**
 * A signal some code waits on, with a timeout: `notify` resolves every wait. A latched signal also
 * remembers a notification nobody waited for: the next wait returns at once (a wake-up that came while
 * the waiter was busy is not lost).
 */
export interface Signal {
  notify(): void;
  /** Resolves at the next notification, or after `ms`. */
  wait(ms: number): Promise<void>;
  /** How many wait now. */
  readonly waiting: number;
}

export function createSignal(o: { readonly latched: boolean }): Signal {
  const waiters = new Set<() => void>();
  let latched = false;
  return {
    notify() {
      if (o.latched && waiters.size === 0) latched = true;
      for (const resolve of waiters) resolve();
      waiters.clear();
    },
    wait(ms) {
      return new Promise<void>((resolve) => {
        if (latched) {
          latched = false;
          resolve();
          return;
        }
        const timer = setTimeout(() => {
          waiters.delete(done);
          resolve();
        }, ms);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        waiters.add(done);
      });
    },
    get waiting() {
      return waiters.size;
    },
  };
}
