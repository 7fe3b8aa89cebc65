/**
 * The Node flags an evaluator process runs with: the `runhooks-evaluator` bin's shebang (main.ts) and
 * the evaluator process of `npm run bench:evaluator-scale` (a test holds both to this).
 *
 * A smaller young generation. V8's default lets each of its two semi-spaces grow to 16 MiB, 32 MiB of
 * resident memory once a burst of batches has grown them; the evaluator's garbage is a batch's parsed
 * runs, whose survivors are few, so half of it costs no measurable CPU (bench:evaluator at 1,000 rules:
 * 29–39 µs per run with the default, 31–36 with this, load average 2–4) and keeps 16 MiB off its RSS.
 */
export const EVALUATOR_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8"];
