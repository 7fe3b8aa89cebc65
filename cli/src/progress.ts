import type { Terminal } from "./terminal.js";

export interface Progress {
  /** `done` of `total` units (bytes, runs…); `label` is what was done so far, in words. */
  update(done: number, total: number, label: string): void;
  /** Clears the bar (on a terminal), and writes a final line if given. */
  finish(line?: string): void;
}

const WIDTH = 30;

/**
 * A progress bar redrawn in place on a terminal; elsewhere (a log file, CI) a plain line at most every
 * `intervalMs`, so logs stay readable.
 */
export function progressOn(
  write: (text: string) => void,
  terminal: Terminal,
  now: () => number = Date.now,
  intervalMs = 2000,
): Progress {
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(done, total, label) {
      const t = now();
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      if (terminal.errIsTty) {
        if (t - lastDraw < 80 && fraction < 1) return;
        const filled = Math.round(fraction * WIDTH);
        write(
          `\r[${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${label}\u001b[K`,
        );
        drawn = true;
      } else {
        if (t - lastDraw < intervalMs) return;
        write(`${(fraction * 100).toFixed(0)}%  ${label}\n`);
      }
      lastDraw = t;
    },
    finish(line) {
      if (drawn) write("\r\u001b[K");
      if (line !== undefined) write(`${line}\n`);
    },
  };
}
