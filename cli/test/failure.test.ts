import { InfraError, UsageError } from "@runhooks/infra";
import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { runCli } from "@runhooks/cli";
import { failureOf } from "../src/failure.js";
import { CliError } from "../src/io.js";

describe("what the CLI says when a command throws", () => {
  it.each<[string, unknown, number, string]>([
    [
      "a wrong argument",
      new CliError("0 is not a positive whole number", "usage"),
      2,
      "runhooks: 0 is not a positive whole number\n",
    ],
    [
      "an unreachable API",
      new CliError("cannot reach the runhooks API at http://x: start it", "unavailable"),
      1,
      "runhooks: cannot reach the runhooks API at http://x: start it\n",
    ],
    [
      "anything else the user must fix",
      new CliError("rules/: no .json rule files there"),
      1,
      "runhooks: rules/: no .json rule files there\n",
    ],
    [
      "an unknown service name",
      new UsageError("unknown service x; choose among api"),
      2,
      "runhooks: unknown service x; choose among api\n",
    ],
    [
      "the stack's own failure, with its code",
      new InfraError("port_in_use", "port 9092 is in use; stop it"),
      1,
      "runhooks: port_in_use: port 9092 is in use; stop it\n",
    ],
    ["--help (commander has printed it)", new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"), 0, ""],
    [
      "a wrong flag (commander has said so)",
      new CommanderError(1, "commander.unknownOption", "error: unknown option"),
      1,
      "",
    ],
  ])("%s", (_name, error, exitCode, text) => {
    expect(failureOf(error)).toEqual({ exitCode, text });
  });

  it("says an unexpected error with its stack, exit code 1", () => {
    const error = new Error("boom");
    const failure = failureOf(error);
    expect(failure.exitCode).toBe(1);
    expect(failure.text).toBe(`runhooks: unexpected error: ${error.stack}\n`);
    expect(failureOf("boom")).toEqual({ exitCode: 1, text: "runhooks: unexpected error: boom\n" });
  });

  it("marks only an unreachable dependency retriable", () => {
    expect(
      [new CliError("x", "unavailable"), new CliError("x", "usage"), new CliError("x")].map((e) => [
        e.code,
        e.retriable,
      ]),
    ).toEqual([
      ["unavailable", true],
      ["usage", false],
      ["failed", false],
    ]);
  });

  it("is what runCli writes and returns, for the CLI's usage errors and the stack's", async () => {
    const run = async (argv: string[]) => {
      let err = "";
      const code = await runCli(argv, { out: () => undefined, err: (t) => (err += t), env: {}, cwd: "/" });
      return { code, err };
    };
    expect(await run(["start", "--only", "nope"])).toEqual({
      code: 2,
      err: expect.stringMatching(/^runhooks: unknown service nope; choose among /) as string,
    });
    expect(await run(["demo", "--runs", "0"])).toEqual({
      code: 2,
      err: "runhooks: --runs must be a positive whole number, not 0\n",
    });
  });
});
