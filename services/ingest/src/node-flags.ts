/**
 * The Node flags an ingest process runs with, wherever it is started: the `runhooks-ingest` bin's
 * shebang (main.ts), infra/docker-compose.yml and `npm run bench:ingest` (tests hold all three to this).
 *
 * A larger young generation. Each request's runs live from parsing to Kafka's ack, a few milliseconds;
 * with V8's default semi-spaces a scavenge mid-request promotes them, and the old generation's
 * collections (marking on helper threads) then cost more than the request's own work. Measured with
 * bench:ingest: ~15% less CPU per run at ~20k runs/s; 32 and 64 MiB did alike.
 */
export const INGEST_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=32"];
