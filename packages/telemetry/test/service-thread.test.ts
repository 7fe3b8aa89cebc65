import { describe, expect, it } from "vitest";
import { startServiceThread, type Logger } from "@runhooks/telemetry";

type ToThread = { readonly type: "echo" | "log" | "throw" | "exit" | "stop"; readonly value?: number };
type FromThread = { readonly type: "echo"; readonly value: number };

/** The echo worker beside this file, with what it sent, logged and how it stopped. */
async function start(workerData: object = {}) {
  const messages: FromThread[] = [];
  const logs: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const stopped: string[] = [];
  const log: Logger = (level, message, fields = {}) => logs.push({ level, message, fields });
  const thread = await startServiceThread<ToThread, FromThread>({
    from: new URL("./fixtures/", import.meta.url).href + "x.ts",
    name: "echo-worker",
    workerData,
    label: "the echo thread",
    log,
    onMessage: (m) => messages.push(m),
    onStopped: (reason) => stopped.push(reason),
  });
  return { thread, messages, logs, stopped };
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
};

describe("service threads (startServiceThread)", () => {
  it("relays its messages and log lines, and ends when asked without a problem", async () => {
    const { thread, messages, logs, stopped } = await start();
    thread.post({ type: "echo", value: 7 });
    thread.post({ type: "log", value: 8 });
    await until(() => messages.length === 1 && logs.length === 1);
    expect(messages).toEqual([{ type: "echo", value: 7 }]);
    expect(logs).toEqual([{ level: "warn", message: "from the thread", fields: { value: 8 } }]);
    await thread.stop({ type: "stop" }, 5000);
    expect(thread.problem()).toBeUndefined();
    expect(stopped).toEqual(["the echo thread stopped"]);
  });

  it("refuses to start a thread that says it failed, with its reason", async () => {
    await expect(start({ failToStart: true })).rejects.toThrow("no configuration");
  });

  it("reports a thread that throws: problem() says why, and whatever waits for it is told once", async () => {
    const { thread, logs, stopped } = await start();
    thread.post({ type: "throw" });
    await until(() => thread.problem() !== undefined);
    expect(thread.problem()).toBe("the echo thread failed: thread broke");
    await until(() => stopped.length > 0);
    expect(stopped[0]).toBe("the echo thread failed: thread broke");
    expect(logs.some((l) => l.level === "error" && l.message === "the echo thread failed: thread broke")).toBe(true);
    // Resolves once the thread has exited; the "exit" that follows the "error" tells nothing new.
    await thread.stop({ type: "stop" }, 5000);
    expect(stopped).toEqual(["the echo thread failed: thread broke"]);
  });

  it("reports a thread that exits unasked, with its exit code", async () => {
    const { thread, stopped } = await start();
    thread.post({ type: "exit" });
    await until(() => stopped.length > 0);
    expect(thread.problem()).toBe("the echo thread exited (code 3)");
    expect(stopped).toEqual(["the echo thread exited (code 3)"]);
    await thread.stop({ type: "stop" }, 5000);
  });
});
