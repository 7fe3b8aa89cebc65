/** The local broker's KRaft node id (broker and controller in one process). */
export const NODE_ID = 1;

export interface ServerConfig {
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  /** Settings added to, or replacing, the PLAINTEXT defaults below. */
  readonly properties?: Readonly<Record<string, string>>;
}

/**
 * The broker's server.properties: a single KRaft node on 127.0.0.1, PLAINTEXT unless `properties`
 * replaces its listeners. Pure.
 */
export function serverProperties(o: ServerConfig): string {
  const settings: Record<string, string> = {
    "process.roles": "broker,controller",
    "node.id": String(NODE_ID),
    "controller.quorum.voters": `${NODE_ID}@127.0.0.1:${o.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${o.port}`,
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name": "PLAINTEXT",
    "log.dirs": o.dataDir,
    // Topics are declared by runhooks (packages/kafka/src/topics.ts), never created by accident.
    "auto.create.topics.enable": "false",
    "num.partitions": "1",
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "log.retention.hours": "168",
    ...o.properties,
  };
  return [
    "# Written by runhooks infra on every start; edit infra/src/broker-config.ts instead.",
    ...Object.entries(settings).map(([key, value]) => `${key}=${value}`),
    "",
  ].join("\n");
}

export function log4jProperties(logFile: string): string {
  return [
    "log4j.rootLogger=INFO, file",
    "log4j.appender.file=org.apache.log4j.RollingFileAppender",
    `log4j.appender.file.File=${logFile}`,
    "log4j.appender.file.MaxFileSize=20MB",
    "log4j.appender.file.MaxBackupIndex=2",
    "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
    "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
    "log4j.logger.kafka.request.logger=WARN",
    "log4j.logger.org.apache.kafka.controller=WARN",
    "",
  ].join("\n");
}
