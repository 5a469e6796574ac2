import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import type { Logger } from "@carechain/common";
import { AuditUnavailableError } from "../errors.ts";
import type { RequestPolicy } from "../policy/index.ts";

/**
 * Holds every answer until the audit entries of its reads are stored (`RequestPolicy.settled`), and replaces
 * it with an AUDIT_UNAVAILABLE error when they could not be: patient data never leaves unaudited. The
 * entries are written while the resolvers run, so the wait is usually the tail of one INSERT.
 */
export function auditPlugin<TContext extends BaseContext & { policy: RequestPolicy }>(
  logger: Logger,
): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          try {
            await contextValue.policy.settled();
          } catch (error) {
            const refusal = error instanceof AuditUnavailableError ? error : new AuditUnavailableError();
            logger.warn({ code: refusal.code }, "answer withheld: its reads could not be audited");
            if (response.body.kind === "single") {
              response.body.singleResult = {
                data: null,
                errors: [{ message: refusal.shortMessage, extensions: { code: refusal.code } }],
              };
            } else {
              // Incremental delivery is not enabled on subgraphs; refuse rather than stream unaudited parts.
              throw refusal;
            }
          }
        },
      };
    },
  };
}
