import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';

/**
 * Every operation of /api/openapi.json, sent bad values one parameter at a time (by the type the
 * document declares), malformed JSON and multipart bodies, and methods it does not have. A client's
 * mistake is a 4xx with a JSON `{error}`; a 5xx is our bug.
 */

interface Schema {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
}
interface Parameter {
  name: string;
  in: 'path' | 'query';
  schema: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface Probe {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: string | Buffer;
  contentType?: string;
  /** Only a 404 or 405 will do (a method the path does not have). */
  unknownMethod?: boolean;
}

const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
const IMPOSSIBLE_DATES = [
  '2020-02-30',
  '2020-02-30T10:00:00Z',
  '0000-01-01',
  '0000-01-01T00:00:00Z',
  '99999-01-01',
  '+099999-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '2021-13-01',
  '2021-01-01T25:61:00Z',
  'yesterday',
];
const HUGE_NUMBERS = [
  '1e309',
  '99999999999999999999999',
  '-99999999999999999999',
  '-1',
  '0',
  '1.5',
  'NaN',
  'Infinity',
  '0x10',
];
const TEXTS = ['a\u0000b', '\ud800', 'x'.repeat(5000), '%', "' OR 1=1 --", '', ' ', '\u202e\u0000'];
const CURSORS = [
  ...IMPOSSIBLE_DATES.map((d) => cursorOf([d, randomUUID()])),
  cursorOf(['2020-01-01T00:00:00.000000Z', 'not-a-uuid']),
  cursorOf([1e20]),
  cursorOf([-1]),
  cursorOf(['\u0000']),
  cursorOf({ at: '2020-02-30' }),
  '!!!',
  'a'.repeat(600),
  'e30',
];

function typeOf(schema: Schema): string {
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants?.length) return typeOf(variants.find((v) => v.type !== 'null') ?? variants[0]!);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (schema.format === 'date-time' || schema.format === 'date') return 'date';
  if (schema.format === 'uuid') return 'uuid';
  return type ?? 'string';
}

/** Bad text for a query or path parameter of this schema. */
function badParameterValues(name: string, schema: Schema): string[] {
  if (name === 'cursor') return CURSORS;
  switch (typeOf(schema)) {
    case 'date':
      return IMPOSSIBLE_DATES;
    case 'integer':
    case 'number':
      return HUGE_NUMBERS;
    case 'boolean':
      return ['maybe', '2', 'a\u0000'];
    case 'uuid':
      return ['not-a-uuid', '00000000-0000-0000-0000-00000000000g', `${randomUUID()}\u0000`, 'x'.repeat(300)];
    default:
      return TEXTS;
  }
}

/** A plausible value for a body field, so one wrong field is what the server sees. */
function plausible(schema: Schema): unknown {
  if (schema.enum?.length) return schema.enum[0];
  switch (typeOf(schema)) {
    case 'date':
      return '2024-01-01T00:00:00Z';
    case 'uuid':
      return randomUUID();
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return 'fuzz';
  }
}

function badBodyValues(schema: Schema): unknown[] {
  const wrongTypes = [null, 42, true, [], {}, 'text', 1e308, -1, 2 ** 63, 'a\u0000b'];
  if (typeOf(schema) === 'date') return [...wrongTypes, ...IMPOSSIBLE_DATES];
  if (typeOf(schema) === 'array') return [...wrongTypes, ['a\u0000'], Array.from({ length: 5000 }, () => 'x'), [null]];
  return wrongTypes;
}

const MALFORMED_JSON = ['{', '{"a":', '[1,]', 'null', '"text"', '[]', '{"__proto__":{"x":1}}', '['.repeat(5000)];
const INVALID_UTF8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]);

function multipart(filename: string, content = 'hello', boundary = 'fuzzboundary'): string {
  return `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/plain\r\n\r\n${content}\r\n--${boundary}--\r\n`;
}
const MALFORMED_MULTIPART: { body: string | Buffer; contentType: string }[] = [
  { body: multipart('a\u0000b.txt'), contentType: 'multipart/form-data; boundary=fuzzboundary' },
  { body: multipart('../../etc/passwd'), contentType: 'multipart/form-data; boundary=fuzzboundary' },
  { body: multipart('x'.repeat(2000)), contentType: 'multipart/form-data; boundary=fuzzboundary' },
  { body: multipart('a.txt'), contentType: 'multipart/form-data' },
  { body: multipart('a.txt'), contentType: 'multipart/form-data; boundary=other' },
  { body: multipart('a.txt').slice(0, 60), contentType: 'multipart/form-data; boundary=fuzzboundary' },
  {
    body: '--fuzzboundary\r\nContent-Disposition: form-data\r\n\r\nx',
    contentType: 'multipart/form-data; boundary=fuzzboundary',
  },
  { body: '--fuzzboundary--\r\n', contentType: 'multipart/form-data; boundary=fuzzboundary' },
  { body: 'not multipart at all', contentType: 'multipart/form-data; boundary=fuzzboundary' },
  { body: multipart('a.txt', '', 'b'), contentType: 'multipart/form-data; boundary=b' },
  {
    body: multipart('a.txt').replace('name="file"', 'name="other"'),
    contentType: 'multipart/form-data; boundary=fuzzboundary',
  },
  { body: multipart('a.txt'), contentType: 'multipart/form-data; boundary="' },
];

const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const ROLE_BLIND = /^\/(api\/auth\/|api\/search$|v1\/)/;
/** Endpoints whose success would end the fuzzing session itself. */
const SIGN_OUTS = /logout|sessions|sign-?out|password/;

function probes(spec: { paths: Record<string, Record<string, Operation>> }): Probe[] {
  const out: Probe[] = [];
  for (const [template, operations] of Object.entries(spec.paths)) {
    if (SIGN_OUTS.test(template)) continue;
    const fill = (overrides: Record<string, string> = {}) =>
      template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(overrides[name] ?? randomUUID()));
    for (const method of ALL_METHODS.filter((m) => !operations[m.toLowerCase()]))
      out.push({ method, path: fill(), unknownMethod: true });
    out.push({ method: 'PROPFIND', path: fill(), unknownMethod: true });

    for (const [verb, op] of Object.entries(operations)) {
      const method = verb.toUpperCase();
      out.push({ method, path: fill() });
      for (const p of op.parameters ?? []) {
        for (const value of badParameterValues(p.name, p.schema)) {
          if (p.in === 'path') out.push({ method, path: fill({ [p.name]: value }) });
          else out.push({ method, path: fill(), query: { [p.name]: value } });
        }
      }
      const json = op.requestBody?.content['application/json']?.schema;
      if (json) {
        const valid = Object.fromEntries(Object.entries(json.properties ?? {}).map(([k, s]) => [k, plausible(s)]));
        const send = (body: string | Buffer, contentType = 'application/json') =>
          out.push({ method, path: fill(), body, contentType });
        send(JSON.stringify(valid));
        for (const [field, schema] of Object.entries(json.properties ?? {}))
          for (const value of badBodyValues(schema)) send(JSON.stringify({ ...valid, [field]: value }));
        for (const raw of MALFORMED_JSON) send(raw);
        send(INVALID_UTF8);
        send(JSON.stringify(valid), 'text/plain');
        send(JSON.stringify(valid), 'application/json; charset=utf-16');
      }
      if (op.requestBody?.content['multipart/form-data'])
        for (const m of MALFORMED_MULTIPART) out.push({ method, path: fill(), ...m });
    }
  }
  return out;
}

describe.each(backends)('fuzzing the API from its OpenAPI document on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    [admin, employee] = await Promise.all([newUser(app, { role: 'admin' }), newUser(app)]);
  });
  afterAll(() => app?.close());

  it('answers at least 3,000 bad requests with 4xx JSON errors and never a 5xx', async () => {
    const spec = (await (await fetch(`${app.url}/api/openapi.json`)).json()) as Parameters<typeof probes>[0];
    const list = probes(spec);
    const sent: { probe: Probe; token: string }[] = [
      ...list.map((probe) => ({ probe, token: admin.token })),
      // Again as an employee, where the role can change the path a request takes (sign-in, search
      // and the model API do not depend on it, and are the slowest to answer).
      ...list.filter((probe) => !ROLE_BLIND.test(probe.path)).map((probe) => ({ probe, token: employee.token })),
    ];
    expect(sent.length).toBeGreaterThanOrEqual(3000);

    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < sent.length) {
        const { probe, token } = sent[next++]!;
        const url = new URL(`${app.url}${probe.path}`);
        for (const [k, v] of Object.entries(probe.query ?? {})) url.searchParams.set(k, v);
        const headers: Record<string, string> = { authorization: `Bearer ${token}` };
        if (probe.contentType) headers['content-type'] = probe.contentType;
        const sending = `${probe.method} ${url.pathname}${url.search.slice(0, 120)} ${String(probe.body ?? '').slice(0, 80)}`;
        // A connection reset is retried once (seen rarely on a loaded machine, apparently when
        // a kept-alive socket is reused as it closes); a second one counts as a failure.
        let answer: { res: Response; text: string } | undefined;
        for (let attempt = 0; !answer && attempt < 2; attempt++) {
          try {
            const res = await fetch(url, { method: probe.method, headers, body: probe.body, redirect: 'manual' });
            answer = { res, text: await res.text() };
          } catch (error) {
            if (attempt === 1)
              failures.push(`no answer (${(error as { cause?: Error }).cause?.message ?? String(error)}): ${sending}`);
          }
        }
        if (!answer) continue;
        const { res, text } = answer;
        const json = (res.headers.get('content-type') ?? '').includes('json');
        const what = `${sending} → ${res.status} ${text.slice(0, 160)}`;
        if (res.status >= 500) failures.push(what);
        else if (probe.unknownMethod && (![404, 405].includes(res.status) || !json))
          failures.push(`unknown method: ${what}`);
        else if (res.status >= 400 && (!json || !(JSON.parse(text) as { error?: unknown }).error))
          failures.push(`not a JSON error: ${what}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(failures).toEqual([]);
  }, 120_000);
});
