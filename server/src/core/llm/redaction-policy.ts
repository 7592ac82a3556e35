import { BlockList } from 'node:net';
import { hostOf, literalAddress } from '../net/ip-address.ts';

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
    host = hostOf(new URL(baseUrl));
  } catch {
    return false;
  }
  const literal = literalAddress(host);
  if (literal) return local.check(literal.address, literal.family === 4 ? 'ipv4' : 'ipv6');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return !host.includes('.') || host.endsWith('.local') || host.endsWith('.internal');
}

/** Whether text sent to this endpoint is redacted first. */
export function redactsFor(mode: RedactionMode, baseUrl: string): boolean {
  return mode === 'on' || (mode === 'auto' && !isLocalEndpoint(baseUrl));
}
