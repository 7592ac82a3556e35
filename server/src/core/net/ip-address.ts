import { isIP } from 'node:net';

/**
 * An IPv4 address written as IPv6 (`::ffff:10.0.0.1`, or `::ffff:a00:1` as the URL parser writes
 * it) is that IPv4 address: checks on addresses must see through both forms, or the IPv6 spelling
 * of a refused address would pass.
 */
export function unmapIpv4(address: string): string | undefined {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (dotted) return dotted;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return undefined;
  const [high, low] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** A URL's host as an address or name to compare: no brackets, lower case, no trailing root dot. */
export function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
}

/** 4 or 6 for an IP literal (IPv4-mapped IPv6 counts as 4, with its IPv4 form), 0 for a name. */
export function literalAddress(host: string): { address: string; family: 4 | 6 } | undefined {
  const unmapped = unmapIpv4(host);
  if (unmapped) return { address: unmapped, family: 4 };
  const family = isIP(host);
  return family ? { address: host, family: family === 6 ? 6 : 4 } : undefined;
}
