// The browser-safe part of @carechain/documents: the document format and key wrapping (@noble, WebCrypto), the
// error classes and the endpoints' conventions, with nothing of Node (the client, the stores and the CLI stay
// in the main entry).
export { requestErrorOf, wrappedKeyHeader } from "./client/protocol.ts";
export * from "./crypto/index.ts";
export * from "./errors.ts";
