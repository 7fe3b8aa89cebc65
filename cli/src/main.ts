#!/usr/bin/env node
// `runhooks` — the command line (root package.json "bin"). `runhooks --help` lists the commands.
import { runCli } from "./program.js";

runCli(process.argv.slice(2), {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  tty: { out: process.stdout.isTTY === true, err: process.stderr.isTTY === true },
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
