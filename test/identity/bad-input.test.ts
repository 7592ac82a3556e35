import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newGroup, newUser, type TestUser } from '../support/fixtures.ts';
import { request, type ApiResponse } from '../support/http.ts';
import { count, expectClientError, expectError, freshIp, fromIp, sql, suffix } from './helpers.ts';

const STRONG = 'a long and unusual passphrase 42';
const SQL_META = [
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  "Robert'); DROP TABLE groups;--",
  '%_\\',
  '$1::text',
  '/* */ ;',
];

interface Endpoint {
  label: string;
  method: string;
  path: () => string;
  token: () => string | undefined;
  /** A body this endpoint accepts, to mutate one field at a time. */
  valid: () => Record<string, unknown>;
  /** Per field: values of the wrong type, or out of range. */
  wrong: Record<string, unknown[]>;
}

/** A raw request: any bytes, any content type (the JSON helper cannot send invalid UTF-8). */
async function raw(
  app: TestApp,
  method: string,
  path: string,
  body: Buffer | string,
  headers: Record<string, string>,
): Promise<ApiResponse> {
  const res = await fetch(`${app.url}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Left as text: the assertion on the shape will say so.
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

describe.each(backends)('bad input to the auth and admin endpoints on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;
  let target: TestUser;
  let group: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    [admin, employee, target] = await Promise.all([
      newUser(app, { role: 'admin' }),
      newUser(app),
      newUser(app, { name: 'Patch Target' }),
    ]);
    group = await newGroup(app, `Bad input ${suffix()}`);
  });
  afterAll(() => app?.close());

  const endpoints = (): Endpoint[] => [
    {
      label: 'POST /api/auth/login',
      method: 'POST',
      path: () => '/api/auth/login',
      token: () => undefined,
      valid: () => ({ email: employee.email, password: 'wrong but well-formed' }),
      wrong: {
        email: [
          null,
          42,
          true,
          [],
          {},
          ['a@b.c'],
          '',
          '   ',
          'x'.repeat(321),
          'a\u0000b@example.test',
          'a\ud800@example.test',
        ],
        password: [null, 42, false, [], {}, '', 'x'.repeat(1025)],
      },
    },
    {
      label: 'POST /api/users',
      method: 'POST',
      path: () => '/api/users',
      token: () => admin.token,
      valid: () => ({ email: `bad-${suffix()}@example.test`, name: 'Bad Input', password: STRONG }),
      wrong: {
        email: [null, 42, [], {}, '', 'not-an-email', `${'x'.repeat(320)}@example.test`, "' OR 1=1 --"],
        name: [null, 42, [], {}, '', '   ', 'x'.repeat(201), 'line\nbreak', 'nul\u0000', 'lone\ud800'],
        password: [null, 42, [], {}, 'x'.repeat(1025)],
        role: ['root', 'ADMIN', 1, null, ['admin']],
        groups: ['not-an-array', [1], ['not-a-uuid'], [null], Array(201).fill(randomUUID()), {}],
        skills: ['billing', [1], [''], ['x'.repeat(51)], Array(51).fill('s')],
        capacity: [-1, 101, 1.5, '3', null, 1e308],
      },
    },
    {
      label: 'PATCH /api/users/:id',
      method: 'PATCH',
      path: () => `/api/users/${target.id}`,
      token: () => admin.token,
      valid: () => ({ name: 'Patch Target' }),
      wrong: {
        name: [null, 42, [], '', 'x'.repeat(201), 'tab\there', 'lone\udc00'],
        email: [42, 'nope', ''],
        role: ['superuser', 2],
        disabled: ['yes', 1, null, 'true'],
        password: [123, [], 'short'],
        groups: [[randomUUID()], ['x'], 'g'],
        skills: [[{}], 'x'],
        capacity: [-5, 'many', 1000],
      },
    },
    {
      label: 'POST /api/groups',
      method: 'POST',
      path: () => '/api/groups',
      token: () => admin.token,
      valid: () => ({ name: `Group ${suffix()}` }),
      wrong: {
        name: [null, 42, [], {}, '', '  ', 'x'.repeat(101), 'a\u0000b', 'a\ud800b', 'new\nline'],
        description: [42, [], {}, 'x'.repeat(1001), 'nul \u0000 inside', 'lone \udbff'],
      },
    },
    {
      label: 'POST /api/tokens',
      method: 'POST',
      path: () => '/api/tokens',
      token: () => employee.token,
      valid: () => ({ name: `token ${suffix()}` }),
      wrong: {
        name: [null, 42, [], {}, '', 'x'.repeat(101), 'bell\u0007', 'lone\ud800'],
        expiresInDays: [0, -1, 3651, 1.5, '7', null],
        scopes: [[], ['admin'], 'chat', [1], null, ['chat', 'api', 'chat']],
      },
    },
  ];

  const snapshot = async () => ({
    users: await count(app, 'users'),
    groups: await count(app, 'groups'),
    tokens: await count(app, 'api_tokens'),
    memberships: await count(app, 'user_groups'),
    target: (
      await sql(app, 'SELECT email, name, role, disabled, skills, capacity, password_hash FROM users WHERE id = $1', [
        target.id,
      ])
    )[0],
  });

  const send = (e: Endpoint, body: unknown, ip = freshIp()) =>
    request(app.url, e.method, e.path(), { body, ...(e.token() ? { token: e.token() } : {}), headers: fromIp(ip) });

  it('answers malformed, non-object, mistyped and non-UTF-8 bodies with a 4xx in the error shape and writes nothing', async () => {
    const before = await snapshot();
    const malformed = [
      '{"email": ',
      '{',
      '{"a":1,}',
      "{'a':1}",
      '{"a":}',
      'nul',
      '[1,2',
      '"just a string"',
      'null',
      '123',
      'true',
      '\u0000{}',
    ];
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    const deepObject = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    for (const e of endpoints()) {
      const headers = {
        'content-type': 'application/json',
        ...(e.token() ? { authorization: `Bearer ${e.token()}` } : {}),
      };
      for (const text of malformed) {
        const res = await raw(app, e.method, e.path(), text, { ...headers, ...fromIp(freshIp()) });
        expectClientError(res, `${e.label} ${JSON.stringify(text)}`);
      }
      for (const text of ['[]', '[{"name":"x"}]', deep, deepObject]) {
        expectClientError(
          await raw(app, e.method, e.path(), text, { ...headers, ...fromIp(freshIp()) }),
          `${e.label} ${text.slice(0, 20)}`,
        );
      }
      // Bytes that are not UTF-8 (0xff 0xfe) inside an otherwise valid JSON string.
      const valid = JSON.stringify(e.valid());
      const bytes = Buffer.concat([
        Buffer.from(valid.slice(0, -2)),
        Buffer.from([0xff, 0xfe]),
        Buffer.from(valid.slice(-2)),
      ]);
      const nonUtf8 = await raw(app, e.method, e.path(), bytes, { ...headers, ...fromIp(freshIp()) });
      expectError(nonUtf8, 400, 'invalid_utf8');
      expectError(await raw(app, e.method, e.path(), Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), headers), 400);
      // Valid JSON, but not declared as JSON; or in a charset we do not speak.
      expectClientError(
        await raw(app, e.method, e.path(), valid, { ...headers, 'content-type': 'text/plain' }),
        `${e.label} text/plain`,
      );
      expectClientError(
        await raw(app, e.method, e.path(), valid, { ...headers, 'content-type': 'application/json; charset=latin1' }),
        `${e.label} latin1`,
      );
      expectClientError(
        await raw(app, e.method, e.path(), 'not gzip', { ...headers, 'content-encoding': 'gzip' }),
        `${e.label} bad gzip`,
      );
    }
    expect(await snapshot()).toEqual(before);
  });

  it('answers wrong types, out-of-range and overlong fields, unknown fields and unstorable text with a 4xx, writing nothing', async () => {
    const before = await snapshot();
    for (const e of endpoints()) {
      for (const [field, values] of Object.entries(e.wrong)) {
        for (const value of values) {
          const res = await send(e, { ...e.valid(), [field]: value });
          expectClientError(res, `${e.label} ${field}=${JSON.stringify(value)?.slice(0, 40)}`);
        }
      }
      // Unknown fields, including prototype-pollution attempts (sent as raw JSON text to keep `__proto__` a plain key).
      for (const extra of [
        '"isAdmin":true',
        '"role_id":1',
        '"__proto__":{"role":"admin"}',
        '"constructor":{"prototype":{"role":"admin"}}',
      ]) {
        const text = `{${JSON.stringify(e.valid()).slice(1, -1)},${extra}}`;
        const headers = {
          'content-type': 'application/json',
          ...fromIp(freshIp()),
          ...(e.token() ? { authorization: `Bearer ${e.token()}` } : {}),
        };
        expectError(await raw(app, e.method, e.path(), text, headers), 400, 'invalid_input');
      }
      if (e.method === 'POST') expectError(await send(e, {}), 400, 'invalid_input');
    }
    // An empty PATCH is a no-op, not an error.
    expect((await request(app.url, 'PATCH', `/api/users/${target.id}`, { token: admin.token, body: {} })).status).toBe(
      200,
    );
    expect(await snapshot()).toEqual(before);
  });

  it('stores SQL metacharacters verbatim and treats them as plain text in searches and sign-in', async () => {
    for (const meta of SQL_META) {
      const email = `o'brien+${suffix()}@example.test`;
      const created = await request(app.url, 'POST', '/api/users', {
        token: admin.token,
        body: { email, name: meta, password: STRONG },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body.user).toMatchObject({ email, name: meta });
      const [row] = await sql<{ name: string; email: string }>(app, 'SELECT name, email FROM users WHERE id = $1', [
        created.body.user.id,
      ]);
      expect(row).toEqual({ name: meta, email });

      const groupRes = await request(app.url, 'POST', '/api/groups', {
        token: admin.token,
        body: { name: `${meta} ${suffix()}`, description: meta },
      });
      expect(groupRes.status).toBe(201);
      expect(groupRes.body.group.description).toBe(meta);
      const tokenRes = await request(app.url, 'POST', '/api/tokens', { token: employee.token, body: { name: meta } });
      expect(tokenRes.status).toBe(201);
      expect(tokenRes.body.apiToken.name).toBe(meta);

      const login = await request(app.url, 'POST', '/api/auth/login', {
        body: { email: meta, password: meta },
        headers: fromIp(freshIp()),
      });
      expectError(login, 401, 'invalid_credentials');
    }
    // Searching for a LIKE wildcard finds only names that contain it, not everyone.
    const percent = await request(app.url, 'GET', `/api/users?q=${encodeURIComponent('%_\\')}&limit=200`, {
      token: admin.token,
    });
    expect(percent.status).toBe(200);
    expect(percent.body.items.map((u: { name: string }) => u.name)).toEqual(['%_\\']);
    const injection = await request(app.url, 'GET', `/api/users?q=${encodeURIComponent("' OR 1=1 --")}`, {
      token: admin.token,
    });
    expect(injection.body.items.map((u: { name: string }) => u.name)).toEqual(["' OR 1=1 --"]);
    // The tables are all still there.
    expect(await count(app, 'users')).toBeGreaterThan(3);
    expect(await count(app, 'groups')).toBeGreaterThan(1);
  });

  it('answers bad query strings and path ids with a 4xx, never a 500', async () => {
    const get = (path: string) => request(app.url, 'GET', path, { token: admin.token });
    const nulCursor = Buffer.from('\u0000\u0000', 'utf8').toString('base64url');
    for (const path of [
      '/api/users?limit=abc',
      '/api/users?limit=0',
      '/api/users?limit=100000',
      '/api/users?limit=-1',
      '/api/users?q=%00',
      '/api/users?q=a&q=b',
      `/api/users?q=${'x'.repeat(201)}`,
      '/api/users?role=root',
      `/api/users?cursor=${nulCursor}`,
      `/api/users?cursor=${'A'.repeat(600)}`,
      '/api/groups?q=%00',
      `/api/groups?cursor=${nulCursor}`,
      '/api/admin/audit?action=%00',
      '/api/admin/audit?actorId=not-a-uuid',
      '/api/admin/audit?from=yesterday',
      '/api/admin/audit?to=2024-13-45',
      `/api/admin/audit?targetId=${'x'.repeat(201)}`,
      '/api/admin/audit?targetType=%00',
    ]) {
      expectClientError(await get(path), path);
    }
    for (const path of [
      '/api/users/not-a-uuid',
      `/api/users/${randomUUID()}`,
      '/api/users/%00',
      "/api/users/'%20OR%201=1",
      '/api/groups/1',
    ]) {
      expectError(await get(path), 404, 'not_found');
    }
    // A cursor the server did not make is refused, whatever it holds.
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    for (const cursor of ['abc', b64('xyz'), b64('["a@b"]')]) {
      expectError(await get(`/api/admin/audit?cursor=${cursor}`), 400, 'invalid_input');
    }
    expectError(await get(`/api/users?cursor=${b64('[42]')}`), 400, 'invalid_input');
  });

  describe('properties', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom(...SQL_META, '\u0000', '\ud800', 'x'.repeat(400), '', '  ', 'ünïcødé 中文 🙂'),
    );
    const anyValue = fc.oneof(
      text,
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(text, { maxLength: 3 }),
      fc.dictionary(text, text, { maxKeys: 2 }),
    );
    const field = (valid: fc.Arbitrary<unknown>) =>
      fc.oneof({ weight: 2, arbitrary: valid }, { weight: 3, arbitrary: anyValue });
    const withExtra = <T extends Record<string, unknown>>(arb: fc.Arbitrary<T>) =>
      fc
        .tuple(arb, fc.option(fc.dictionary(text, anyValue, { minKeys: 1, maxKeys: 2 }), { freq: 4 }))
        .map(([body, extra]) => ({ ...extra, ...body }));
    const runs = { numRuns: 50 };

    it('sign-in: any body gets 200, 401 or a 4xx, never a 5xx', async () => {
      const users = await count(app, 'users');
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            withExtra(fc.record({ email: field(fc.emailAddress()), password: field(text) }, { requiredKeys: [] })),
            anyValue,
          ),
          async (body) => {
            const res = await request(app.url, 'POST', '/api/auth/login', { body, headers: fromIp(freshIp()) });
            if (res.status !== 401) expectClientError(res, JSON.stringify(body));
            else expect(res.body.error.code).toBe('invalid_credentials');
          },
        ),
        runs,
      );
      expect(await count(app, 'users')).toBe(users);
    });

    it('create user: 201 or a 4xx; users grow by exactly the 201s', async () => {
      const users = await count(app, 'users');
      let created = 0;
      await fc.assert(
        fc.asyncProperty(
          withExtra(
            fc.record(
              {
                email: field(fc.emailAddress()),
                name: field(fc.string({ minLength: 1, maxLength: 30 })),
                password: field(fc.constantFrom(STRONG, 'another very long passphrase')),
                role: field(fc.constantFrom('employee', 'agent', 'admin')),
                groups: field(fc.constant([group])),
                skills: field(fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 3 })),
                capacity: field(fc.integer({ min: 0, max: 100 })),
              },
              { requiredKeys: [] },
            ),
          ),
          async (body) => {
            const res = await request(app.url, 'POST', '/api/users', { token: admin.token, body });
            if (res.status === 201) created += 1;
            else expectClientError(res, JSON.stringify(body));
          },
        ),
        runs,
      );
      expect(await count(app, 'users')).toBe(users + created);
    });

    it('update user: 200 or a 4xx; a refused update changes nothing', async () => {
      await fc.assert(
        fc.asyncProperty(
          withExtra(
            fc.record(
              {
                name: field(fc.string({ minLength: 1, maxLength: 30 })),
                role: field(fc.constantFrom('employee', 'agent')),
                skills: field(fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 3 })),
                capacity: field(fc.integer({ min: 0, max: 100 })),
                groups: field(fc.constant([group])),
                disabled: field(fc.boolean()),
                email: field(fc.emailAddress()),
              },
              { requiredKeys: [] },
            ),
          ),
          async (body) => {
            const before = await snapshot();
            const res = await request(app.url, 'PATCH', `/api/users/${target.id}`, { token: admin.token, body });
            if (res.status === 200) return;
            expectClientError(res, JSON.stringify(body));
            expect(await snapshot()).toEqual(before);
          },
        ),
        runs,
      );
    });

    it('create group: 201 or a 4xx; groups grow by exactly the 201s', async () => {
      const groups = await count(app, 'groups');
      let created = 0;
      await fc.assert(
        fc.asyncProperty(
          withExtra(
            fc.record(
              { name: field(fc.string({ minLength: 1, maxLength: 40 })), description: field(text) },
              { requiredKeys: [] },
            ),
          ),
          async (body) => {
            const res = await request(app.url, 'POST', '/api/groups', { token: admin.token, body });
            if (res.status === 201) created += 1;
            else expectClientError(res, JSON.stringify(body));
          },
        ),
        runs,
      );
      expect(await count(app, 'groups')).toBe(groups + created);
    });

    it('create token: 201 or a 4xx; tokens grow by exactly the 201s', async () => {
      const tokens = await count(app, 'api_tokens');
      let created = 0;
      await fc.assert(
        fc.asyncProperty(
          withExtra(
            fc.record(
              {
                name: field(fc.string({ minLength: 1, maxLength: 40 })),
                expiresInDays: field(fc.integer({ min: 1, max: 3650 })),
                scopes: field(fc.subarray(['chat', 'api'])),
              },
              { requiredKeys: [] },
            ),
          ),
          async (body) => {
            const res = await request(app.url, 'POST', '/api/tokens', { token: employee.token, body });
            if (res.status === 201) created += 1;
            else expectClientError(res, JSON.stringify(body));
          },
        ),
        runs,
      );
      expect(await count(app, 'api_tokens')).toBe(tokens + created);
    });
  });
});
