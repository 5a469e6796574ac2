import { DoctorFetch, PatientFetch } from "@carechain/gateway/operations";
import { anvilAccounts } from "@carechain/stack";
import { describe, expect, test } from "vitest";
import { demoAccounts } from "../demo/accounts.ts";
import { demoRecords } from "../demo/scenario.ts";
import { UsageError } from "../errors.ts";
import { keyFor, parseQueryArgs, type QueryArgs } from "./query.ts";

describe("parseQueryArgs", () => {
  test("default: a named operation with its variables", () => {
    expect(
      parseQueryArgs(["--as", "dr-house", "PatientFetch", "--address", "0xabc", "--records", "5"]),
    ).toEqual({
      as: "dr-house",
      operationName: "PatientFetch",
      query: PatientFetch,
      variables: { address: "0xabc", records: 5 },
      gateway: undefined,
    });
    expect((parseQueryArgs(["DoctorFetch", "--as=3", "--address=0xdef"]) as QueryArgs).query).toBe(
      DoctorFetch,
    );
  });

  test("args: a query of one's own with JSON variables and a gateway URL", () => {
    const args = parseQueryArgs([
      "--as",
      "alice",
      "--query",
      "query Q($a: Address!) { patient(address: $a) { address } }",
      "--variables",
      '{"a":"0x1"}',
      "--gateway",
      "http://127.0.0.1:5000",
    ]);
    expect(args).toMatchObject({ variables: { a: "0x1" }, gateway: "http://127.0.0.1:5000" });
  });

  test("error: missing account, unknown operation or option, bad numbers", () => {
    expect(() => parseQueryArgs(["PatientFetch"])).toThrow(UsageError);
    expect(() => parseQueryArgs(["--as", "alice", "Nope"])).toThrow(/unknown operation Nope/);
    expect(() => parseQueryArgs(["--as", "alice", "Me", "--colour", "red"])).toThrow(
      /unknown option --colour/,
    );
    expect(() => parseQueryArgs(["--as", "alice", "PatientFetch", "--records", "many"])).toThrow(
      /whole number/,
    );
  });
});

describe("parseQueryArgs: DocumentFetch", () => {
  test("args: a demo record by name, or a record id with its patient, and an output file", () => {
    expect(parseQueryArgs(["--as", "dr-house", "DocumentFetch", "--record", "consultation"])).toEqual({
      as: "dr-house",
      patient: demoAccounts.alice.address,
      recordId: demoRecords.consultation.id,
      out: undefined,
      gateway: undefined,
    });
    const id = `0x${"ab".repeat(32)}`;
    expect(
      parseQueryArgs([
        "--as",
        "alice",
        "DocumentFetch",
        "--record",
        id,
        "--patient",
        demoAccounts.alice.address,
        "--out",
        "note.txt",
      ]),
    ).toMatchObject({ recordId: id, patient: demoAccounts.alice.address, out: "note.txt" });
  });

  test("error: no record, a bad id, no patient for an id, document options on a GraphQL operation", () => {
    expect(() => parseQueryArgs(["--as", "alice", "DocumentFetch"])).toThrow(/needs --record/);
    expect(() => parseQueryArgs(["--as", "alice", "DocumentFetch", "--record", "x-ray"])).toThrow(
      /a demo record \(consultation, /,
    );
    expect(() =>
      parseQueryArgs(["--as", "alice", "DocumentFetch", "--record", `0x${"ab".repeat(32)}`]),
    ).toThrow(/--patient/);
    expect(() => parseQueryArgs(["--as", "alice", "Me", "--record", "consultation"])).toThrow(
      /--record is for DocumentFetch/,
    );
  });
});

describe("keyFor", () => {
  test("behavior: a demo name, an anvil index or a key", () => {
    expect(keyFor("dr-house")).toBe(anvilAccounts[3]!.privateKey);
    expect(keyFor("5")).toBe(anvilAccounts[5]!.privateKey);
    expect(keyFor(anvilAccounts[9]!.privateKey)).toBe(anvilAccounts[9]!.privateKey);
    expect(() => keyFor("dr-who")).toThrow(/no demo account "dr-who"/);
  });
});
