// The gateway's test kit (@carechain/gateway/testing): a running gateway over a test database, and the
// fixture builder that writes projections through the projector.
export { createTestDatabase } from "./database.ts";
export {
  type AlertFixture,
  createWorld,
  Fixtures,
  hex32,
  lower,
  newAccount,
  type RecordFixture,
  testChainId,
  type World,
  type WorldViewer,
} from "./fixtures.ts";
export { createTestGateway, type GraphQLResponse, type TestGateway } from "./gateway.ts";
export { until } from "./until.ts";
