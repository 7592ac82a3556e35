/**
 * Plain JavaScript (it must load without tsx, in worker threads too). Preloaded into the air-gapped server (`node --import`): records every outbound TCP connection
 * attempt and every DNS lookup that is not loopback, to the file in ENCLAVE_CONNECT_LOG, one JSON
 * line each. Inside a loopback-only network namespace such an attempt fails anyway; the record
 * shows that none was even tried.
 */
import { appendFileSync } from 'node:fs';
import dns from 'node:dns';
import net from 'node:net';

const log = process.env.ENCLAVE_CONNECT_LOG;
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/i;
const record = (entry) => {
  if (log) appendFileSync(log, `${JSON.stringify({ ...entry, at: new Date().toISOString() })}\n`);
};

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function patched(...args) {
  const first = args[0];
  let host;
  let port;
  if (Array.isArray(first)) {
    const options = first[0];
    host = options?.path ? undefined : (options?.host ?? 'localhost');
    port = options?.port;
  } else if (typeof first === 'object' && first) {
    host = first.path ? undefined : (first.host ?? 'localhost');
    port = first.port;
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    host = typeof args[1] === 'string' ? args[1] : 'localhost';
    port = first;
  }
  if (host !== undefined && !LOOPBACK.test(host)) record({ kind: 'tcp', host, port });
  return connect.apply(this, args);
};

const lookup = dns.lookup;
dns.lookup = function patchedLookup(hostname, ...rest) {
  if (!LOOPBACK.test(hostname)) record({ kind: 'dns', host: hostname });
  return lookup(hostname, ...rest);
};
