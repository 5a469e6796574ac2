import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { WebhookUrlError } from "../errors.ts";

/**
 * The one rule for webhook URLs, used when a subscription is created (the gateway) and again before every
 * send (the delivery service, against the address it is about to connect to: DNS may have changed since).
 */

/** Longest URL accepted: receivers need no more, and the URL is stored and shown in every log row. */
export const maxWebhookUrlLength = 2048;

/** The URL's syntax: http or https, a host, no userinfo (credentials in a URL end up in logs). */
export function parseWebhookUrl(value: string): URL {
  const allowed = "Use an absolute http:// or https:// URL with a host and no user name or password.";
  if (value.length > maxWebhookUrlLength)
    throw new WebhookUrlError("INVALID_URL", `Webhook URL longer than ${maxWebhookUrlLength} characters.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WebhookUrlError("INVALID_URL", `Invalid webhook URL. ${allowed}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new WebhookUrlError("INVALID_URL", `Webhook URL scheme ${url.protocol} is not allowed. ${allowed}`);
  if (url.username !== "" || url.password !== "")
    throw new WebhookUrlError(
      "INVALID_URL",
      `Webhook URL must not contain a user name or password. ${allowed}`,
    );
  if (hostOf(url) === "") throw new WebhookUrlError("INVALID_URL", `Webhook URL has no host. ${allowed}`);
  return url;
}

/** The URL's host as an address or name: IPv6 literals without their brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

type Range = { bits: 32 | 128; base: bigint; prefix: number };

const v4 = (text: string, prefix: number): Range => ({ bits: 32, base: ipv4Value(text)!, prefix });
const v6 = (text: string, prefix: number): Range => ({ bits: 128, base: ipv6Value(text)!, prefix });

/** Addresses a webhook must not reach: this host, private networks, the cloud metadata endpoints. */
const privateRanges: readonly Range[] = [
  v4("0.0.0.0", 8), // "this network", 0.0.0.0 itself: unspecified
  v4("10.0.0.0", 8), // RFC 1918
  v4("100.64.0.0", 10), // RFC 6598 carrier-grade NAT (Alibaba's metadata 100.100.100.200 too)
  v4("127.0.0.0", 8), // loopback
  v4("169.254.0.0", 16), // link-local: 169.254.169.254 is the AWS/GCP/Azure metadata service
  v4("172.16.0.0", 12), // RFC 1918
  v4("192.0.0.0", 24), // IETF protocol assignments (some clouds' metadata)
  v4("192.168.0.0", 16), // RFC 1918
  v4("198.18.0.0", 15), // benchmarking networks
  v4("224.0.0.0", 4), // multicast
  v4("240.0.0.0", 4), // reserved, and 255.255.255.255 broadcast
  v6("::", 96), // unspecified (::), loopback (::1), IPv4-compatible (deprecated)
  v6("100::", 64), // discard-only
  v6("64:ff9b:1::", 48), // local-use NAT64
  v6("fc00::", 7), // unique local (fd00:ec2::254: AWS's IPv6 metadata)
  v6("fe80::", 10), // link-local
  v6("fec0::", 10), // site-local (deprecated)
  v6("ff00::", 8), // multicast
];

/** IPv6 prefixes that carry an IPv4 address in their last 32 bits: judged by that address. */
const embeddingRanges: readonly Range[] = [
  v6("::ffff:0:0", 96), // IPv4-mapped
  v6("::ffff:0:0:0", 96), // IPv4-translated (SIIT)
  v6("64:ff9b::", 96), // NAT64 well-known prefix
];

const inRange = (value: bigint, range: Range): boolean =>
  value >> BigInt(range.bits - range.prefix) === range.base >> BigInt(range.bits - range.prefix);

/**
 * True for an address a webhook must not reach: loopback, RFC 1918, CGNAT, link-local (metadata), ULA,
 * unspecified, multicast, reserved, and the IPv4-mapped (or NAT64) forms of those. Not an IP address: true
 * (refused: only resolved addresses are judged).
 */
export function isPrivateAddress(ip: string): boolean {
  const address = ip.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, ""); // brackets, IPv6 zone id
  const family = isIP(address);
  if (family === 4) {
    const value = ipv4Value(address)!;
    return privateRanges.some((range) => range.bits === 32 && inRange(value, range));
  }
  if (family === 6) {
    const value = ipv6Value(address);
    if (value === null) return true;
    if (embeddingRanges.some((range) => inRange(value, range))) {
      const embedded = value & 0xffffffffn;
      return privateRanges.some((range) => range.bits === 32 && inRange(embedded, range));
    }
    return privateRanges.some((range) => range.bits === 128 && inRange(value, range));
  }
  return true;
}

export type ResolveHost = (host: string) => Promise<readonly string[]>;

/** Every address of a name (A and AAAA, as the system resolver gives them). */
export const resolveHost: ResolveHost = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * The URL checked against the rule and, unless `allowPrivate`, the addresses its host resolves to now:
 * every one must be public (one private address among public ones is refused: a client may pick it).
 * Connect to `addresses` (not to the name again), so that a second resolution cannot swap in another.
 * With `allowPrivate` (the operator's choice: every receiver on one machine), nothing is resolved and
 * `addresses` is empty.
 */
export async function checkWebhookTarget(
  value: string,
  options: { allowPrivate: boolean; resolve?: ResolveHost },
): Promise<{ url: URL; addresses: string[] }> {
  const url = parseWebhookUrl(value);
  if (options.allowPrivate) return { url, addresses: [] };
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = [...(await (options.resolve ?? resolveHost)(host))];
    } catch (error) {
      throw new WebhookUrlError("UNRESOLVED", `Webhook host ${host} does not resolve.`, { cause: error });
    }
    if (addresses.length === 0)
      throw new WebhookUrlError("UNRESOLVED", `Webhook host ${host} does not resolve.`);
  }
  const refused = addresses.find(isPrivateAddress);
  if (refused !== undefined)
    throw new WebhookUrlError(
      "PRIVATE_ADDRESS",
      `Webhook host ${host} is on a private address (${refused}): loopback, private networks, link-local and metadata addresses are refused. Use a public address (the operator can allow private ones with WEBHOOK_ALLOW_PRIVATE_URLS=true).`,
    );
  return { url, addresses };
}

function ipv4Value(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function ipv6Value(text: string): bigint | null {
  let groups: string[];
  let tail: bigint | null = null;
  let head = text;
  // A dotted IPv4 tail (::ffff:10.0.0.1) counts as the last two groups.
  const dotted = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted) {
    tail = ipv4Value(dotted[2]!);
    if (tail === null) return null;
    head = dotted[1]!.endsWith("::") ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const width = tail === null ? 8 : 6;
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const split = (part: string) => (part === "" ? [] : part.split(":"));
  if (halves.length === 2) {
    const left = split(halves[0]!);
    const right = split(halves[1]!);
    if (left.length + right.length >= width) return null;
    groups = [...left, ...Array<string>(width - left.length - right.length).fill("0"), ...right];
  } else groups = split(head);
  if (groups.length !== width) return null;
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  return tail === null ? value : (value << 32n) | tail;
}
