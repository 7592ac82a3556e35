import { makePdf, makeDocx, makeXlsx } from '/work/main/test/knowledge/fixtures.ts';
import { parseDocument } from '/work/main/server/src/core/knowledge/parsing/parse.ts';
const pdf = makePdf([['Employee handbook', 'Vacation is 25 days a year.'], ['第二页：报销政策。', '差旅费用须在三十天内报销。']]);
console.log(JSON.stringify(await parseDocument(pdf, 'application/pdf')));
console.log(JSON.stringify(await parseDocument(makeDocx([['Heading1', 'Security policy'], ['', 'Badges must be worn at all times.']]), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document')));
console.log(JSON.stringify(await parseDocument(await makeXlsx('Prices', [['Item', 'Price'], ['Laptop', 1200], ['笔记本', 800]]), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')));
