export * from "./stream.ts";
export * from "./wrap.ts";
