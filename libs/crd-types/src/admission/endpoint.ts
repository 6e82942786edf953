import type { EndpointPolicy } from './types.js';

/**
 * SSRF guard for sink endpoints (SEED-SPEC §3.8, §7.3). It inspects what the user wrote — host
 * names and IP literals — without DNS resolution, so cluster DNS names (`*.svc`) stay usable.
 */

/** Host names of cloud metadata services; forbidden even with `allowPrivateEndpoints`. */
export const METADATA_HOSTNAMES: readonly string[] = [
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.com',
  'metadata.tencentyun.com',
];

const LOCAL_HOSTNAMES = ['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback'];

type Ipv4 = readonly [number, number, number, number];

/**
 * Parse an IPv4 literal the way URL parsers and `inet_aton` do, including the forms attackers use
 * to dodge naive checks: `2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`.
 */
export function parseIpv4(host: string): Ipv4 | undefined {
  const parts = host.split('.');
  if (parts.length === 0 || parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const part of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(part)) n = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) n = parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) n = Number(part);
    else return undefined;
    nums.push(n);
  }
  const last = nums.pop() as number;
  if (nums.some((n) => n > 255)) return undefined;
  if (last >= 256 ** (4 - nums.length)) return undefined;
  let value = last;
  nums.forEach((n, i) => (value += n * 256 ** (3 - i)));
  return [(value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
}

/** Parse an IPv6 literal (without brackets) into 8 groups; supports `::` and an embedded IPv4 tail. */
export function parseIpv6(host: string): number[] | undefined {
  let h = host.toLowerCase();
  const zone = h.indexOf('%');
  if (zone >= 0) h = h.slice(0, zone);
  if (!h.includes(':')) return undefined;
  const lastColon = h.lastIndexOf(':');
  const maybeV4 = h.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    // Embedded IPv4 tail (::ffff:127.0.0.1): rewrite it as two hex groups.
    const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(maybeV4) ? parseIpv4(maybeV4) : undefined;
    if (!v4) return undefined;
    h = `${h.slice(0, lastColon + 1)}${(v4[0] * 256 + v4[1]).toString(16)}:${(v4[2] * 256 + v4[3]).toString(16)}`;
  }
  const halves = h.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups = s.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0] as string);
  const rest = halves.length === 2 ? parse(halves[1] as string) : [];
  if (!head || !rest) return undefined;
  const total = head.length + rest.length;
  if (halves.length === 1 && total !== 8) return undefined;
  if (halves.length === 2 && total > 7) return undefined;
  return [...head, ...new Array<number>(8 - total).fill(0), ...rest];
}

interface Verdict {
  readonly kind: 'metadata' | 'link-local' | 'private' | 'file';
  readonly why: string;
}

function ipv4Verdict([a, b]: Ipv4, literal: string): Verdict | undefined {
  if (a === 169 && b === 254)
    return {
      kind: 'link-local',
      why: `${literal} is a link-local address (cloud metadata lives at 169.254.169.254)`,
    };
  if (a === 127) return { kind: 'private', why: `${literal} is a loopback address` };
  if (a === 0) return { kind: 'private', why: `${literal} is an unspecified ("this host") address` };
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168))
    return { kind: 'private', why: `${literal} is a private (RFC 1918) address` };
  if (a === 100 && b >= 64 && b <= 127)
    return { kind: 'private', why: `${literal} is a carrier-grade NAT (100.64.0.0/10) address` };
  if (a === 198 && (b === 18 || b === 19))
    return { kind: 'private', why: `${literal} is a benchmarking (198.18.0.0/15) address` };
  return undefined;
}

/** Classify a host name or IP literal; `undefined` means allowed. */
function hostVerdict(rawHost: string): Verdict | undefined {
  let host = rawHost.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  host = host.replace(/\.+$/, '');
  if (host === '') return undefined;
  if (METADATA_HOSTNAMES.includes(host))
    return { kind: 'metadata', why: `${host} is a cloud metadata service` };
  if (LOCAL_HOSTNAMES.includes(host) || host.endsWith('.localhost'))
    return { kind: 'private', why: `${host} resolves to this machine` };
  const v4 = parseIpv4(host);
  if (v4) return ipv4Verdict(v4, host);
  const v6 = parseIpv6(host);
  if (v6) {
    const [g0 = 0] = v6;
    if (v6.every((g) => g === 0)) return { kind: 'private', why: `${host} is the unspecified IPv6 address` };
    if (v6.slice(0, 7).every((g) => g === 0) && v6[7] === 1)
      return { kind: 'private', why: `${host} is the IPv6 loopback address` };
    if ((g0 & 0xffc0) === 0xfe80) return { kind: 'link-local', why: `${host} is an IPv6 link-local address` };
    if ((g0 & 0xfe00) === 0xfc00)
      return { kind: 'private', why: `${host} is an IPv6 unique local (fc00::/7) address` };
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms carry an IPv4 address.
    if (v6.slice(0, 5).every((g) => g === 0) && (v6[5] === 0xffff || v6[5] === 0)) {
      const hi = v6[6] as number;
      const lo = v6[7] as number;
      return ipv4Verdict([hi >> 8, hi & 255, lo >> 8, lo & 255], host);
    }
  }
  return undefined;
}

function verdictAllowed(v: Verdict | undefined, policy: EndpointPolicy): boolean {
  if (!v) return true;
  if (v.kind === 'private') return policy.allowPrivateEndpoints === true;
  if (v.kind === 'file') return policy.allowFileEndpoints === true;
  return false;
}

const HINT = 'use a cluster DNS name (e.g. service.namespace.svc) or a public host';

/**
 * Check one host (name or IP literal, IPv6 with or without brackets). Returns a message when the
 * host is forbidden under `policy`, otherwise `undefined`.
 */
export function checkHost(host: string, policy: EndpointPolicy = {}): string | undefined {
  const v = hostVerdict(host);
  return verdictAllowed(v, policy) ? undefined : `endpoint host is not allowed: ${v?.why}; ${HINT}`;
}

/** How an endpoint string is written, which decides where the host is. */
export type EndpointForm = 'url' | 'git' | 'objectStore' | 'broker';

/** Extract the host of an endpoint, or `undefined` when it names no network host (plain bucket, relative path). */
export function endpointHost(raw: string, form: EndpointForm): { host?: string; scheme?: string } {
  const s = raw.trim();
  if (s === '') return {};
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  if (schemeMatch) {
    const scheme = (schemeMatch[1] as string).toLowerCase();
    if (scheme === 'file') return { scheme };
    if (form === 'objectStore' && (scheme === 's3' || scheme === 'gs')) return { scheme };
    const rest = s.slice(schemeMatch[0].length);
    const authority = rest.split(/[/?#]/, 1)[0] ?? '';
    const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
    return { scheme, host: splitHostPort(hostPort) };
  }
  if (form === 'git') {
    // scp-like syntax: [user@]host:path
    const m = /^(?:[^@/]+@)?(\[[^\]]+\]|[^:/]+):/.exec(s);
    return m ? { host: m[1] as string } : {};
  }
  if (form === 'broker') return { host: splitHostPort(s) };
  return {};
}

function splitHostPort(hostPort: string): string {
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    return end > 0 ? hostPort.slice(0, end + 1) : hostPort;
  }
  const colons = hostPort.split(':').length - 1;
  if (colons === 1) return hostPort.slice(0, hostPort.indexOf(':'));
  return hostPort; // bare IPv6 literal or no port
}

/**
 * Check an endpoint string: a URL, a Git remote (URL or scp-like), an object-store location or a
 * Kafka broker `host:port`. Returns a message when it is forbidden under `policy`.
 */
export function checkEndpoint(
  raw: string,
  form: EndpointForm,
  policy: EndpointPolicy = {},
): string | undefined {
  const { host, scheme } = endpointHost(raw, form);
  if (scheme === 'file') {
    return policy.allowFileEndpoints === true
      ? undefined
      : "file:// endpoints are not allowed: they read the operator's own file system; use a remote URL";
  }
  return host === undefined ? undefined : checkHost(host, policy);
}
