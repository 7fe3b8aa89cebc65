export * from "./common.js";
export * from "./parse.js";
export * from "./run.js";
export * from "./rule.js";
export * from "./window.js";
export * from "./delivery.js";
export * from "./dead-letter.js";
export * from "./json-schema.js";
