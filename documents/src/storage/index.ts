export * from "./blob-store.ts";
export * from "./fs-store.ts";
export * from "./open.ts";
export * from "./s3-store.ts";
