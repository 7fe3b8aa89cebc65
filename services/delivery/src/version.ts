/** Sent as `user-agent: runhooks/<version>`; kept in step with package.json by hand. */
export const VERSION = "0.1.0";
export const USER_AGENT = `runhooks/${VERSION}`;
