import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { tinyPng } from '../support/images.ts';

describe.each(backends)("the organisation's name and logo on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;
  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
    employee = await newUser(app);
  });
  afterAll(() => app?.close());

  const putLogo = (token: string, body: Buffer, type: string) =>
    fetch(`${app.url}/api/organisation/logo`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': type },
      body,
    });

  it('shows anyone (the sign-in page) the name and logo an admin set, byte for byte, and audits the change', async () => {
    expect((await request(app.url, 'GET', '/api/organisation')).body.organisation).toEqual({ name: '', logoUrl: null });
    expect(
      (await request(app.url, 'PATCH', '/api/organisation', { token: employee.token, body: { name: 'Mine' } })).status,
    ).toBe(403);
    const renamed = await request(app.url, 'PATCH', '/api/organisation', {
      token: admin.token,
      body: { name: '  北风银行 Northwind  ' },
    });
    expect(renamed.body.organisation).toEqual({ name: '北风银行 Northwind', logoUrl: null });

    const png = tinyPng();
    expect((await putLogo(employee.token, png, 'image/png')).status).toBe(403);
    const uploaded = await putLogo(admin.token, png, 'image/png');
    expect(uploaded.status).toBe(200);
    const { organisation } = (await uploaded.json()) as { organisation: { logoUrl: string } };
    expect(organisation.logoUrl).toMatch(/^\/api\/organisation\/logo\?v=\d+$/);

    const publicView = await request(app.url, 'GET', '/api/organisation');
    expect(publicView.body.organisation).toEqual({ name: '北风银行 Northwind', logoUrl: organisation.logoUrl });
    const logo = await fetch(`${app.url}${organisation.logoUrl}`);
    expect(logo.status).toBe(200);
    expect(logo.headers.get('content-type')).toBe('image/png');
    expect(logo.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await logo.arrayBuffer()).equals(png)).toBe(true);

    const audit = await request(app.url, 'GET', '/api/admin/audit?action=organisation.updated', { token: admin.token });
    expect(audit.body.items.map((i: { details: unknown }) => i.details)).toEqual([
      { logo: 'image/png', bytes: png.length },
      { name: '北风银行 Northwind' },
    ]);
  });

  it('refuses a logo that is not a raster image (whatever its declared type) or too big, and keeps the old one', async () => {
    const before = (await request(app.url, 'GET', '/api/organisation')).body.organisation;
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    const refused = await putLogo(admin.token, svg, 'image/png');
    expect(refused.status).toBe(415);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    const big = await putLogo(admin.token, tinyPng({ padding: 300 * 1024 }), 'image/png');
    expect(big.status).toBe(413);
    expect((await request(app.url, 'GET', '/api/organisation')).body.organisation).toEqual(before);
  });

  it('removes the logo', async () => {
    await putLogo(admin.token, tinyPng(), 'image/png');
    const removed = await request(app.url, 'DELETE', '/api/organisation/logo', { token: admin.token });
    expect(removed.body.organisation.logoUrl).toBeNull();
    expect((await fetch(`${app.url}/api/organisation/logo`)).status).toBe(404);
  });
});
