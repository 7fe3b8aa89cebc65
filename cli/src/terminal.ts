/** What the CLI needs to know about where it writes: whether stderr/stdout are terminals, and colour. */
export interface Terminal {
  /** stderr is a terminal: progress may redraw one line. */
  readonly errIsTty: boolean;
  /** Colour the output (stdout is a terminal and NO_COLOR is unset). */
  readonly color: boolean;
}

export function terminalOf(
  env: Readonly<Record<string, string | undefined>>,
  stdoutTty: boolean,
  stderrTty: boolean,
): Terminal {
  // https://no-color.org: any non-empty NO_COLOR turns colour off.
  const noColor = (env["NO_COLOR"] ?? "") !== "";
  return { errIsTty: stderrTty, color: stdoutTty && !noColor && env["TERM"] !== "dumb" };
}

const CODES = { red: 31, green: 32, yellow: 33, grey: 90, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export function paint(terminal: Terminal, colour: Colour, text: string): string {
  return terminal.color ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}
