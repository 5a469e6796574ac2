import type { EventEnvelope } from "@carechain/common";
import { describe, expect, test } from "vitest";
import { deliveryRequestId } from "./delivery.ts";

/** Only what the request id reads. */
const envelope = (fields: Pick<EventEnvelope, "type" | "id" | "blockNumber" | "logIndex" | "retracted">) =>
  fields as EventEnvelope;

describe("deliveryRequestId", () => {
  test("default: the delivery's id and the event's block and log index; r for a retraction", () => {
    const added = envelope({
      type: "RecordAdded",
      id: "31337:0xaa:3",
      blockNumber: 12,
      logIndex: 3,
      retracted: false,
    });
    expect(deliveryRequestId("webhook:sub_1", added)).toBe("webhook:sub_1:12.3");
    expect(deliveryRequestId("webhook:sub_1", { ...added, retracted: true })).toBe("webhook:sub_1:12.3r");
  });

  test("behavior: two facts that one block makes get ids of their own, within the audit log's 120 characters", () => {
    const at = (subject: string) =>
      envelope({
        type: "GrantExpired",
        id: `31337:0x${"b".repeat(64)}:expired:0x${subject.repeat(40)}:0x${"d".repeat(40)}`,
        blockNumber: 40,
        logIndex: 2 ** 31 - 1,
        retracted: false,
      });
    const prefix = "x".repeat(200);
    const one = deliveryRequestId(prefix, at("1"));
    const two = deliveryRequestId(prefix, at("2"));
    expect(one).not.toBe(two);
    expect(one).toMatch(/^x{80}:40\.d[0-9a-f]{12}$/);
    expect(one.length).toBeLessThanOrEqual(120);
  });
});
