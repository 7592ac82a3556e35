import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newApiBot, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { until } from '../support/wait.ts';
import { makePdf, makeXlsx } from '../knowledge/fixtures.ts';
import { newCollection, settled, upload } from '../knowledge/helpers.ts';

interface Cited {
  documentId: string;
  title: string;
  page: number | null;
  snippet: string;
}

/*
 * A question whose answer is one cell of a table, asked of the bot (the offline answerer): the
 * answer names the cell with its column, and cites the document and the page the table is on.
 */
describe.each(backends)('answers from a table cell on %s (offline)', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;
  let bot: { id: string };
  let sheetId: string;
  let pdfId: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    [admin, employee] = await Promise.all([newUser(app, { role: 'admin' }), newUser(app)]);
    const collectionId = await newCollection(app, admin.token);
    const sheet = await makeXlsx('Offices', [
      ['Office', 'City', 'Phone', 'Opening hours'],
      ['Headquarters', 'Berlin', '+49 30 1234', '8:00–18:00'],
      ['Branch', 'Shanghai', '+86 21 5555', '9:00–17:30'],
      ['Lab', 'Lisbon', '+351 21 777', '10:00–16:00'],
    ]);
    // The fee table is on page 2, after a page of unrelated text.
    const pdf = makePdf([
      ['Facilities guide', 'The cafeteria serves lunch from noon until two.'],
      [
        'Parking fees',
        ['Garage', 'Hourly fee', 'Day ticket'],
        ['Garage A', '2 EUR', '12 EUR'],
        ['Garage B', '3 EUR', '15 EUR'],
        ['Garage C', '1 EUR', '8 EUR'],
      ],
    ]);
    const uploads = await Promise.all([
      upload(app, admin.token, collectionId, 'offices.xlsx', sheet),
      upload(app, admin.token, collectionId, 'facilities.pdf', pdf),
    ]);
    const docs = await Promise.all(uploads.map((u) => settled(app, admin.token, u.body.document.id)));
    expect(docs.map((d) => d.status)).toEqual(['ready', 'ready']);
    [sheetId, pdfId] = docs.map((d) => d.id as string) as [string, string];
    bot = await newApiBot(app, admin, { collectionIds: [collectionId] });
  }, 240_000);
  afterAll(() => app?.close());

  async function ask(question: string) {
    const c = await request(app.url, 'POST', '/api/conversations', { token: employee.token, body: { botId: bot.id } });
    const id: string = c.body.conversation.id;
    await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: employee.token,
      body: { body: question },
    });
    return (await until(async () => {
      const h = await request(app.url, 'GET', `/api/conversations/${id}/messages`, { token: employee.token });
      return h.body.items.find(
        (m: { senderType: string; status: string }) => m.senderType === 'bot' && m.status !== 'streaming',
      );
    }, "the bot's reply")) as { outcome: string; body: string; citations: Cited[] };
  }

  it('answers a question about a spreadsheet cell, naming its column, citing the sheet', async () => {
    const reply = await ask('What is the phone number of the Shanghai office?');
    expect(reply.outcome).toBe('answered');
    expect(reply.body).toContain('City: Shanghai; Phone: +86 21 5555');
    // The row asked about, not its neighbours that share the column names.
    expect(reply.body).not.toMatch(/Berlin|Lisbon/);
    expect(reply.citations[0]).toMatchObject({ documentId: sheetId, title: 'offices' });
    // The cited passage is the table itself, the row under its header.
    expect(reply.citations[0]!.snippet).toContain(
      '| Office | City | Phone | Opening hours |\n| --- | --- | --- | --- |\n| Headquarters | Berlin | +49 30 1234 | 8:00–18:00 |\n| Branch | Shanghai | +86 21 5555 | 9:00–17:30 |',
    );
  });

  it('answers a question about a cell of a table in a PDF, citing the page the table is on', async () => {
    const reply = await ask('What is the hourly fee in Garage B?');
    expect(reply.outcome).toBe('answered');
    expect(reply.body).toContain('Garage: Garage B; Hourly fee: 3 EUR');
    expect(reply.body).not.toMatch(/Garage A|Garage C/);
    expect(reply.body).toContain('(page 2)');
    expect(reply.citations[0]).toMatchObject({ documentId: pdfId, title: 'facilities', page: 2 });
    expect(reply.citations[0]!.snippet).toContain('| Garage B | 3 EUR | 15 EUR |');
  });
});
