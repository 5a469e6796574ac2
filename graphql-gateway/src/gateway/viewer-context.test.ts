import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { UnauthenticatedError } from "../errors.ts";
import { createTestGateway, type TestGateway, type World } from "../testing/index.ts";
import {
  signViewerContext,
  subgraphRequestHash,
  verifyViewerContext,
  viewerContextHeader,
} from "./viewer-context.ts";

const secret = randomBytes(32).toString("hex");
const context = { viewer: { kind: "anonymous" as const }, requestId: "r1" };
const request = { query: "{ doctors { edges { cursor } } }", variables: { a: [1, "x", { b: null }] } };

describe("viewer context", () => {
  test("default", async () => {
    const header = await signViewerContext(secret, context, request);
    // What a subgraph reads: the JSON body as sent.
    const received = JSON.parse(JSON.stringify(request)) as typeof request;
    expect(await verifyViewerContext(secret, header, received)).toEqual(context);
    expect(subgraphRequestHash(received)).toBe(subgraphRequestHash(request));
  });

  test("behavior: an API key's delivery scope reaches the subgraph; an unknown scope is refused", async () => {
    const scoped = {
      viewer: {
        kind: "account" as const,
        address: `0x${"ab".repeat(20)}` as const,
        role: "organization" as const,
        organizationKind: 2,
        verified: null,
        scope: "delivery" as const,
      },
      requestId: "r2",
    };
    const header = await signViewerContext(secret, scoped, request);
    expect(await verifyViewerContext(secret, header, request)).toEqual(scoped);
    const widened = await signViewerContext(
      secret,
      { ...scoped, viewer: { ...scoped.viewer, scope: "admin" as "delivery" } },
      request,
    );
    await expect(verifyViewerContext(secret, widened, request)).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  test("error: another query, other variables or operation, expired, missing", async () => {
    const header = await signViewerContext(secret, context, request);
    const other = [
      { ...request, query: "{ me { role } }" },
      { ...request, variables: { a: [2] } },
      { ...request, operationName: "Other" },
    ];
    for (const body of other) {
      await expect(verifyViewerContext(secret, header, body)).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(verifyViewerContext(secret, header, body)).rejects.toThrow(/signed for another request/);
    }
    await expect(verifyViewerContext(secret, undefined, request)).rejects.toThrow(UnauthenticatedError);
    const expired = await signViewerContext(secret, context, request, -1);
    await expect(verifyViewerContext(secret, expired, request)).rejects.toThrow(/Invalid/);
  });
});

describe("viewer context on the running subgraphs", () => {
  let harness: TestGateway;
  let world: World;

  beforeAll(async () => {
    // The subgraphs over HTTP, where a header can be captured.
    harness = await createTestGateway({ answerCache: false });
    world = await harness.createWorld();
  });

  afterAll(async () => {
    await harness?.stop();
  });

  test("error: a header captured from the gateway's traffic is refused for another query", async () => {
    const identity = harness.subgraphs.find((subgraph) => subgraph.name === "identity")!;
    // Headers only: reading the body here would take it from the subgraph.
    const captured: string[] = [];
    const capture = (req: IncomingMessage) => {
      const header = req.headers[viewerContextHeader];
      if (typeof header === "string") captured.push(header);
    };
    identity.server.on("request", capture);
    try {
      const result = await harness.query(
        `query Mine($a: Address!) { patient(address: $a) { profileHash } }`,
        {
          token: world.patient.token,
          variables: { a: world.patient.address },
        },
      );
      expect(result.errors).toBeUndefined();
    } finally {
      identity.server.off("request", capture);
    }
    expect(captured).toHaveLength(1);
    const header = captured[0]!;
    const replay = (json: string) =>
      fetch(identity.url, {
        method: "POST",
        headers: { "content-type": "application/json", [viewerContextHeader]: header },
        body: json,
      });
    // The patient's identity, replayed for another question: the patient's grants.
    const other = JSON.stringify({
      query: `query($a: Address!) { patient(address: $a) { grants { grantee } } }`,
      variables: { a: world.patient.address },
    });
    const refused = await replay(other);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      errors: [{ extensions: { code: "FORBIDDEN" }, message: expect.stringMatching(/another request/) }],
    });
  });
});
