export * from "./blob-store.ts";
export * from "./errors.ts";
export * from "./fs-store.ts";
export * from "./s3-store.ts";
