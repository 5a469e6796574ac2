import { NonRetryableError } from "@carechain/common";

export class BlobNotFoundError extends NonRetryableError {}
