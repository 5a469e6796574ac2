import { signWebhook } from "@carechain/consumer";
import type { DeliveryService } from "@carechain/delivery";
import { startTestDelivery } from "@carechain/delivery/testing";
import { createTestGateway, lower, newAccount, type TestGateway, until } from "@carechain/gateway/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningInsurerReceiver, startInsurerReceiver } from "./insurer.ts";

// The example end to end on real parts: the gateway (test kit), the delivery service in process over the
// same database, and the example's own HTTP receiver on 127.0.0.1. Events are written by the projector's
// applyBatch (the fixtures).

let harness: TestGateway;
let delivery: DeliveryService;

beforeAll(async () => {
  harness = await createTestGateway();
  delivery = startTestDelivery(harness.db);
});

afterAll(async () => {
  await delivery?.stop();
  await harness?.stop();
});

describe("the insurer receiver example", () => {
  test("default: history pulled, then new events arrive by verified webhook; stop cleans up", async () => {
    const insurerAccount = newAccount();
    const patient = await harness.fixtures.patient(newAccount().address, { block: 1 });
    const insurer = await harness.fixtures.organization(insurerAccount.address, { kind: 2, block: 2 });
    await harness.fixtures.grant({ patient, grantee: insurer, scopes: 1, block: 10 });
    const before = await harness.fixtures.record({ patient, author: lower(patient), type: 1, block: 11 });

    const lines: string[] = [];
    let receiver: RunningInsurerReceiver | undefined;
    try {
      receiver = await startInsurerReceiver({
        gatewayUrl: harness.gateway.url,
        account: insurerAccount,
        print: (line) => void lines.push(line),
      });
      // The history through the pull API: its grant and the record before it subscribed.
      expect(receiver.counts.pulled).toBe(2);
      expect(lines.join("\n")).toMatch(/pulled +GRANT_GIVEN/);
      expect(lines.join("\n")).toMatch(/pulled +RECORD_ADDED/);

      // Then live, by webhook, from where the pull stopped: only what came after.
      const after = await harness.fixtures.record({ patient, author: lower(patient), type: 1, block: 12 });
      delivery.wake();
      await until(() => receiver!.counts.webhook >= 1, "the webhook", 20_000);
      const webhookLines = lines.filter((line) => line.includes(" webhook "));
      expect(webhookLines).toHaveLength(1);
      expect(webhookLines[0]).toMatch(/RECORD_ADDED +patient 0x[0-9a-f]{4}…[0-9a-f]{4}/);
      expect(webhookLines[0]).toContain(`:${after.eventId.split(":").at(-1)}`);
      expect(webhookLines[0]).not.toContain(before.eventId.split(":")[1]!.slice(0, 10));

      // A forged delivery (someone else's secret) is refused and not printed as an event.
      const body = JSON.stringify({ id: "forged", type: "RECORD_ADDED" });
      const forged = await fetch(receiver.url, {
        method: "POST",
        headers: signWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", {
          id: "forged",
          timestamp: new Date(),
          body,
        }),
        body,
      });
      expect(forged.status).toBe(401);
      expect(receiver.counts).toMatchObject({ webhook: 1, refused: 1 });
    } finally {
      await receiver?.stop();
    }

    // Stopped: its subscription is gone and its key revoked.
    const token = await harness.signIn(insurerAccount);
    const { data } = await harness.query<{
      webhookSubscriptions: unknown[];
      apiKeys: { id: string; revokedAt: string | null }[];
    }>("{ webhookSubscriptions { id } apiKeys { id revokedAt } }", { token });
    expect(data!.webhookSubscriptions).toEqual([]);
    expect(data!.apiKeys).toEqual([{ id: receiver!.apiKeyId, revokedAt: expect.any(String) }]);
  });
});
