import { Kafka, logLevel as KafkaLogLevel, type LogEntry, type logCreator } from "kafkajs";
import { useFastGzip } from "./fast-gzip.js";
import { useLeanEncoder } from "./lean-encoder.js";
import { useNativeCrc32C } from "./native-crc32c.js";
import { useSnappy } from "./snappy.js";
import { kafkaConnectionConfig, type KafkaSecurity } from "./security.js";
import { isTransientResponseLog } from "./transient-log.js";

export type LogLevel = "error" | "warn" | "info" | "debug";

export interface KafkaLogger {
  (level: LogLevel, message: string, fields: Record<string, unknown>): void;
}

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** TLS and SASL (`kafkaSecurityFromEnv`); undefined: PLAINTEXT. */
  readonly security?: KafkaSecurity;
  /** Where kafkajs' own log lines go. Defaults to warnings and errors on stderr. */
  readonly logger?: KafkaLogger;
  readonly logLevel?: LogLevel;
  /** How long to keep retrying the initial connection; defaults to kafkajs' own. */
  readonly connectionTimeoutMs?: number;
  /**
   * The client's own retries (connecting to brokers, refreshing metadata); defaults to kafkajs' (5
   * retries, up to 30 s apart). A producer that must fail promptly while Kafka is away bounds these as
   * well as its producer-level retries.
   */
  readonly retry?: { readonly retries: number; readonly initialRetryTimeMs: number; readonly maxRetryTimeMs: number };
}

const levels: Record<LogLevel, KafkaLogLevel> = {
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
};

function levelName(level: KafkaLogLevel): LogLevel {
  if (level <= KafkaLogLevel.ERROR) return "error";
  if (level === KafkaLogLevel.WARN) return "warn";
  if (level === KafkaLogLevel.INFO) return "info";
  return "debug";
}

const stderrLogger: KafkaLogger = (level, message, fields) => {
  process.stderr.write(`${JSON.stringify({ level, source: "kafkajs", message, ...fields })}\n`);
};

/**
 * The only place runhooks constructs a kafkajs client (a test holds it to that), so every client has
 * the codecs of every topic it may read (Snappy: windows; gzip: anything older), the native CRC32C and
 * the lean encoder.
 */
export function createKafka(options: KafkaClientOptions): Kafka {
  useFastGzip();
  useSnappy();
  useNativeCrc32C();
  useLeanEncoder();
  const log = options.logger ?? stderrLogger;
  const creator: logCreator =
    () =>
    ({ level, log: entry, namespace }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = entry;
      const all = { namespace, ...fields };
      // Responses kafkajs retries by itself are debug lines, not errors (transient-log.ts).
      if (isTransientResponseLog(String(message), all)) {
        if (options.logLevel === "debug") log("debug", String(message), all);
        return;
      }
      log(levelName(level), String(message), all);
    };
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    ...kafkaConnectionConfig(options.security),
    logLevel: levels[options.logLevel ?? "warn"],
    logCreator: creator,
    ...(options.connectionTimeoutMs === undefined ? {} : { connectionTimeout: options.connectionTimeoutMs }),
    ...(options.retry === undefined
      ? {}
      : {
          retry: {
            retries: options.retry.retries,
            initialRetryTime: options.retry.initialRetryTimeMs,
            maxRetryTime: options.retry.maxRetryTimeMs,
          },
        }),
  });
}
