export * from "./client/client.ts";
export * from "./crypto/index.ts";
export * from "./errors.ts";
export * from "./storage/index.ts";
