export { readInfraEnv, InfraEnv } from "./env.js";
export { InfraError } from "./errors.js";
export type { InfraErrorCode } from "./errors.js";
export { startKafka, stopKafka, kafkaStatus } from "./kafka-broker.js";
export type { KafkaBroker, KafkaBrokerOptions } from "./kafka-broker.js";
export { startPostgres, stopPostgres, postgresStatus } from "./postgres.js";
export { startStack, prepareStack, describeStack } from "./stack.js";
export type { Stack, Origin, PrepareReport } from "./stack.js";
export { defaultStateDir, repoRoot } from "./paths.js";
