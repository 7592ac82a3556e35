import { BlockList, isIP } from 'node:net';

/** REDACT_PII and a bot's `model.redactPii`: `auto` redacts only for endpoints outside this network. */
export type RedactionMode = 'auto' | 'on' | 'off';

const local = new BlockList();
local.addSubnet('127.0.0.0', 8, 'ipv4');
local.addSubnet('10.0.0.0', 8, 'ipv4');
local.addSubnet('172.16.0.0', 12, 'ipv4');
local.addSubnet('192.168.0.0', 16, 'ipv4');
local.addSubnet('169.254.0.0', 16, 'ipv4');
local.addAddress('::1', 'ipv6');
local.addSubnet('fc00::', 7, 'ipv6');
local.addSubnet('fe80::', 10, 'ipv6');

/**
 * Whether a model endpoint is on this machine or this private network: loopback, private and
 * link-local addresses, `localhost`, and names without a dot or under `.local`/`.internal` (a
 * compose service such as `http://vllm:8000`, an mDNS host) — names that public DNS never resolves.
 */
export function isLocalEndpoint(baseUrl: string): boolean {
  let host: string;
  try {
    host = new URL(baseUrl).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  // An IPv4 address in IPv6 form: URL writes ::ffff:10.0.0.1 as ::ffff:a00:1.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const [high, low] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
    host = [high >> 8, high & 255, low >> 8, low & 255].join('.');
  }
  const family = isIP(host);
  if (family) return local.check(host, family === 4 ? 'ipv4' : 'ipv6');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return !host.includes('.') || host.endsWith('.local') || host.endsWith('.internal');
}

/** Whether text sent to this endpoint is redacted first. */
export function redactsFor(mode: RedactionMode, baseUrl: string): boolean {
  return mode === 'on' || (mode === 'auto' && !isLocalEndpoint(baseUrl));
}
