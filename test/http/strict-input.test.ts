import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { newCollection } from '../knowledge/helpers.ts';

const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');

describe.each(backends)('strict input on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let collectionId: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
    collectionId = await newCollection(app, admin.token);
  });
  afterAll(() => app?.close());

  const expect400 = (res: { status: number; body: { error?: { message?: string } } }) => {
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toEqual(expect.any(String));
  };

  it.each([
    '2020-02-30',
    '2020-02-30T10:00:00Z',
    '0000-01-01',
    '0000-01-01T00:00:00Z',
    '99999-01-01',
    '+099999-01-01T00:00:00Z',
  ])('refuses the audit filter date %s with a 400', async (date) => {
    for (const name of ['from', 'to'])
      expect400(
        await request(app.url, 'GET', `/api/admin/audit?${name}=${encodeURIComponent(date)}`, { token: admin.token }),
      );
    // A real day still filters.
    expect((await request(app.url, 'GET', '/api/admin/audit?from=2020-02-29', { token: admin.token })).status).toBe(
      200,
    );
  });

  it('refuses cursors holding impossible dates, huge numbers or NUL with a 400', async () => {
    for (const cursor of [
      cursorOf(['2020-02-30T00:00:00Z', randomUUID()]),
      cursorOf(['0000-01-01T00:00:00Z', randomUUID()]),
      cursorOf(['+099999-01-01T00:00:00Z', randomUUID()]),
      cursorOf(['\u0000']),
    ]) {
      expect400(await request(app.url, 'GET', `/api/collections?cursor=${cursor}`, { token: admin.token }));
      expect400(await request(app.url, 'GET', `/api/groups?cursor=${cursor}`, { token: admin.token }));
    }
    expect400(
      await request(app.url, 'GET', `/api/admin/audit?cursor=${cursorOf([1e20])}`, {
        token: admin.token,
      }),
    );
  });

  const multipart = async (body: string, contentType = 'multipart/form-data; boundary=b0undary') => {
    const res = await fetch(`${app.url}/api/collections/${collectionId}/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': contentType },
      body,
    });
    return { status: res.status, body: (await res.json()) as { error?: { message?: string } } };
  };
  const part = (filename: string, parameter = `filename="${filename}"`) =>
    `--b0undary\r\nContent-Disposition: form-data; name="file"; ${parameter}\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b0undary--\r\n`;

  it('refuses a NUL byte in an uploaded file name with a 400', async () => {
    expect400(await multipart(part('hand\u0000book.txt')));
    const encoded = await multipart(part('', "filename*=UTF-8''hand%00book.txt"));
    expect400(encoded);
    expect(encoded.body.error?.message).toMatch(/file name/);
  });

  it('refuses malformed multipart bodies with a 400', async () => {
    for (const [body, type] of [
      ['not multipart at all', undefined],
      [part('a.txt').slice(0, 60), undefined],
      [part('a.txt'), 'multipart/form-data'],
      ['--b0undary\r\nContent-Disposition: form-data\r\n\r\nx', undefined],
    ] as const)
      expect400(await multipart(body, type));
    // A well-formed one still uploads.
    expect((await multipart(part('fine.txt'))).status).toBe(202);
  });
});
