import { NonRetryableError } from "@carechain/common";

/** Ciphertext that does not match its expected hash, or a chunk that fails authentication. */
export class IntegrityError extends NonRetryableError {}

/** A wrapped document key that cannot be opened with the given private key (wrong reader, hash or key). */
export class KeyUnwrapError extends NonRetryableError {}
