// What the vitest global setup hands to every test file (`inject("stack")`).
import type { StackEndpoints } from "./stack.ts";

declare module "vitest" {
  interface ProvidedContext {
    stack: StackEndpoints;
  }
}

export type { StackEndpoints };
