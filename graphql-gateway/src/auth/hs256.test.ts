import { createHmac } from "node:crypto";
import { describe, expect, test } from "vitest";
import { signHs256, verifyHs256 } from "./hs256.ts";

const secret = "0123456789abcdef0123456789abcdef";
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const sign = (data: string, key = secret) => createHmac("sha256", key).update(data).digest("base64url");

describe("hs256", () => {
  test("default: what it signs it verifies, claims as they were", () => {
    const claims = { sub: "0xabc", exp: 123, nested: { a: [1, 2] } };
    expect(verifyHs256(secret, signHs256(secret, claims))).toEqual(claims);
  });

  test("behavior: any HS256 header is taken (tokens of other HS256 libraries)", () => {
    const data = `${encode({ alg: "HS256" })}.${encode({ sub: "x" })}`;
    expect(verifyHs256(secret, `${data}.${sign(data)}`)).toEqual({ sub: "x" });
  });

  test("error: another secret, a changed claim, another algorithm, or garbage is refused", () => {
    const token = signHs256(secret, { sub: "0xabc" });
    const [header, , signature] = token.split(".");
    expect(verifyHs256("another secret of at least 32 chars", token)).toBeNull();
    expect(verifyHs256(secret, `${header}.${encode({ sub: "0xdef" })}.${signature}`)).toBeNull();
    const none = `${encode({ alg: "none" })}.${encode({ sub: "x" })}`;
    expect(verifyHs256(secret, `${none}.`)).toBeNull();
    expect(verifyHs256(secret, `${none}.${sign(none)}`)).toBeNull();
    expect(verifyHs256(secret, "a.b")).toBeNull();
    expect(verifyHs256(secret, "not.a.token")).toBeNull();
    const array = `${header}.${encode([1])}`;
    expect(verifyHs256(secret, `${array}.${sign(array)}`)).toBeNull();
  });
});
