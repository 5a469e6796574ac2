import { describe, expect, test } from "vitest";
import { WebhookUrlError } from "../errors.ts";
import { checkWebhookTarget, isPrivateAddress, parseWebhookUrl } from "./url-rules.ts";

/** Every refused range, by its first, a middle and its last address where they differ. */
const privateAddresses = [
  "0.0.0.0",
  "0.255.255.255",
  "10.0.0.0",
  "10.20.30.40",
  "10.255.255.255",
  "100.64.0.0",
  "100.100.100.200",
  "100.127.255.255",
  "127.0.0.1",
  "127.255.255.254",
  "169.254.0.1",
  "169.254.169.254",
  "172.16.0.0",
  "172.20.1.1",
  "172.31.255.255",
  "192.0.0.170",
  "192.168.0.1",
  "192.168.255.255",
  "198.18.0.1",
  "198.19.255.255",
  "224.0.0.1",
  "239.255.255.255",
  "240.0.0.1",
  "255.255.255.255",
  "::",
  "::1",
  "::127.0.0.1",
  "100::1",
  "64:ff9b:1::a",
  "fc00::1",
  "fd00:ec2::254",
  "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  "fe80::1",
  "fe80::1%eth0",
  "febf::1",
  "fec0::1",
  "ff02::1",
  "[::1]",
  // IPv4-mapped and NAT64 forms of private IPv4 addresses, dotted and in hex.
  "::ffff:127.0.0.1",
  "::ffff:7f00:1",
  "::ffff:10.0.0.1",
  "::ffff:169.254.169.254",
  "::ffff:a9fe:a9fe",
  "0:0:0:0:0:ffff:192.168.1.1",
  "::ffff:0:127.0.0.1",
  "64:ff9b::10.0.0.1",
  "64:ff9b::a9fe:a9fe",
];

const publicAddresses = [
  "1.1.1.1",
  "8.8.8.8",
  "9.255.255.255",
  "11.0.0.0",
  "100.63.255.255",
  "100.128.0.0",
  "126.255.255.255",
  "128.0.0.0",
  "169.253.255.255",
  "169.255.0.0",
  "172.15.255.255",
  "172.32.0.0",
  "192.0.1.1",
  "192.167.255.255",
  "192.169.0.0",
  "198.17.255.255",
  "198.20.0.0",
  "223.255.255.255",
  "2606:4700:4700::1111",
  "2001:4860:4860::8888",
  "fbff::1",
  "fe00::1",
  "::ffff:8.8.8.8",
  "::ffff:808:808",
  "64:ff9b::8.8.8.8",
  "::ffff:0:8.8.8.8",
];

describe("isPrivateAddress", () => {
  test("default: public addresses pass", () => {
    for (const address of publicAddresses) expect(isPrivateAddress(address), address).toBe(false);
  });

  test("behavior: every private, loopback, link-local, CGNAT, ULA, unspecified, multicast and mapped range is refused", () => {
    for (const address of privateAddresses) expect(isPrivateAddress(address), address).toBe(true);
  });

  test("args: what is not an IP address is refused (only resolved addresses are judged)", () => {
    for (const value of ["localhost", "", "1.2.3", "1.2.3.256", "::ffff:1.2.3.999", "1::2::3", "g::1"])
      expect(isPrivateAddress(value), value).toBe(true);
  });
});

describe("parseWebhookUrl", () => {
  test("default", () => {
    expect(parseWebhookUrl("https://hooks.example.com/carechain?x=1").href).toBe(
      "https://hooks.example.com/carechain?x=1",
    );
    expect(parseWebhookUrl("http://[2606:4700::1]:8080/h").hostname).toBe("[2606:4700::1]");
  });

  test("error: other schemes, userinfo, no host, too long, not a URL", () => {
    for (const url of [
      "ftp://example.com/",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "https://user:secret@example.com/",
      "https://user@example.com/",
      "https://",
      "http://:80/",
      "example.com/hook",
      `https://example.com/${"a".repeat(2048)}`,
    ]) {
      expect(() => parseWebhookUrl(url), url).toThrow(WebhookUrlError);
      try {
        parseWebhookUrl(url);
      } catch (error) {
        expect((error as WebhookUrlError).reason, url).toBe("INVALID_URL");
        expect((error as WebhookUrlError).code).toBe("BAD_USER_INPUT");
      }
    }
  });
});

describe("checkWebhookTarget", () => {
  const resolveTo =
    (...addresses: string[]) =>
    async () =>
      addresses;

  test("default: a host resolving to public addresses, with the addresses to connect to", async () => {
    const target = await checkWebhookTarget("https://hooks.example.com/x", {
      allowPrivate: false,
      resolve: resolveTo("93.184.216.34", "2606:2800:220:1::1"),
    });
    expect(target.addresses).toEqual(["93.184.216.34", "2606:2800:220:1::1"]);
    expect(target.url.hostname).toBe("hooks.example.com");
  });

  test("error: a hostname resolving to a private address (one among public ones too)", async () => {
    for (const addresses of [["10.0.0.5"], ["93.184.216.34", "169.254.169.254"], ["::ffff:127.0.0.1"]]) {
      await expect(
        checkWebhookTarget("https://rebind.example.com/x", {
          allowPrivate: false,
          resolve: resolveTo(...addresses),
        }),
      ).rejects.toMatchObject({ reason: "PRIVATE_ADDRESS", code: "BAD_USER_INPUT" });
    }
  });

  test("error: IP literals and names on private addresses, the real resolver's localhost included", async () => {
    for (const url of [
      "http://127.0.0.1:8080/",
      "http://[::1]/",
      "http://[::ffff:169.254.169.254]/latest/meta-data",
      "http://169.254.169.254/",
      "http://0x7f.1/", // WHATWG URL normalises it to 127.0.0.1
      "http://localhost:3000/",
    ]) {
      await expect(checkWebhookTarget(url, { allowPrivate: false }), url).rejects.toMatchObject({
        reason: "PRIVATE_ADDRESS",
      });
    }
  });

  test("behavior: allowPrivate accepts private addresses without resolving, but never a malformed URL", async () => {
    let resolved = 0;
    const resolve = async () => {
      resolved++;
      return ["127.0.0.1"];
    };
    const target = await checkWebhookTarget("http://localhost:3000/hook", { allowPrivate: true, resolve });
    expect(target).toMatchObject({ addresses: [] });
    expect(resolved).toBe(0);
    await expect(
      checkWebhookTarget("http://user:pw@127.0.0.1/", { allowPrivate: true }),
    ).rejects.toMatchObject({ reason: "INVALID_URL" });
  });

  test("error: a host that does not resolve is refused, as retryable", async () => {
    const failing = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
    };
    const refused = checkWebhookTarget("https://nowhere.invalid/", { allowPrivate: false, resolve: failing });
    await expect(refused).rejects.toMatchObject({ reason: "UNRESOLVED", retryable: true });
    await expect(
      checkWebhookTarget("https://empty.example/", { allowPrivate: false, resolve: resolveTo() }),
    ).rejects.toMatchObject({ reason: "UNRESOLVED" });
  });
});
