import { splitSections } from '/work/main/server/src/core/knowledge/text/splitter.ts';
console.log(JSON.stringify(await splitSections([{ text: 'Employee handbook\nVacation allowance is 25 days per calendar year.', page: 1 }])));
