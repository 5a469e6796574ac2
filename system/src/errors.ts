// The system's own error classes: only those a caller tells apart (the rest throw common's directly).
import { ConfigError, NonRetryableError } from "@carechain/common";

/** The projections did not reflect the chain head in time. */
export class CatchUpTimeoutError extends NonRetryableError {}

/** `npm run query`'s command line is wrong (exit 2). */
export class UsageError extends ConfigError {}
