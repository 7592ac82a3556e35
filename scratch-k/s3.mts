import { makePdf } from '/work/main/test/knowledge/fixtures.ts';
import { parseDocument } from '/work/main/server/src/core/knowledge/parsing/parse.ts';
const pdf = makePdf([['Employee handbook', 'Vacation allowance is 25 days per calendar year.'], ['第二页：报销政策。', '差旅费用须在三十天内提交报销申请。']]);
console.log(JSON.stringify(await parseDocument(pdf, 'application/pdf')));
