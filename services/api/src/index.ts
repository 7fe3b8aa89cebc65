export { startOutboxRelay } from "./relay/outbox-relay.js";
export type { OutboxRelay, OutboxRelayOptions, RelayFaultPoint, RelayLog } from "./relay/outbox-relay.js";
export { HEADER_KIND, HEADER_OUTBOX_ID, HEADER_OUTBOX_STREAM, HEADER_RULE_VERSION } from "./relay/headers.js";
