/** The evaluator's counters, exposed on /metrics in Prometheus text format. */
export interface Counters {
  runsRead: number;
  runsMatched: number;
  runsSkippedNotEnded: number;
  deadLettered: Record<string, number>;
  windowsEmitted: number;
  ticksRead: number;
  ticksWritten: number;
  rulesInvalid: number;
}

export function createCounters(): Counters {
  return {
    runsRead: 0,
    runsMatched: 0,
    runsSkippedNotEnded: 0,
    deadLettered: {},
    windowsEmitted: 0,
    ticksRead: 0,
    ticksWritten: 0,
    rulesInvalid: 0,
  };
}

export function prometheusText(c: Counters, gauges: Record<string, number>): string {
  const lines: string[] = [];
  const counter = (name: string, help: string, value: number, labels = "") => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name}${labels} ${value}`);
  };
  counter("runhooks_evaluator_runs_read_total", "Run messages read from the runs topic.", c.runsRead);
  counter("runhooks_evaluator_runs_matched_total", "Runs that joined at least one window.", c.runsMatched);
  counter("runhooks_evaluator_runs_skipped_total", "Runs skipped because they have not ended.", c.runsSkippedNotEnded, '{reason="not_ended"}');
  lines.push("# HELP runhooks_evaluator_dead_lettered_total Messages sent to the dead-letter topic.");
  lines.push("# TYPE runhooks_evaluator_dead_lettered_total counter");
  for (const [reason, n] of Object.entries(c.deadLettered)) lines.push(`runhooks_evaluator_dead_lettered_total{reason="${reason}"} ${n}`);
  counter("runhooks_evaluator_windows_emitted_total", "Closed windows published.", c.windowsEmitted);
  counter("runhooks_evaluator_ticks_read_total", "Tick messages read.", c.ticksRead);
  counter("runhooks_evaluator_ticks_written_total", "Tick messages appended.", c.ticksWritten);
  counter("runhooks_evaluator_rules_invalid_total", "Rule versions whose filter did not validate.", c.rulesInvalid);
  for (const [name, value] of Object.entries(gauges)) {
    lines.push(`# TYPE ${name} gauge`, `${name} ${value}`);
  }
  return `${lines.join("\n")}\n`;
}
