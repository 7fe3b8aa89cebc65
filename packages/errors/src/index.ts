export { RunhooksError, errorCode, exitCodeOf, isRetriable } from "./runhooks-error.js";
