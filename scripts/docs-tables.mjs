#!/usr/bin/env node
// Regenerates the README's generated tables (between their <!-- NAME:start --> / <!-- NAME:end -->
// markers) from the compiled source: the configuration table, the error-code table and the
// dialects' operations table.
// Run `npm run docs:tables` after changing src/config/settings.ts, the error codes or a dialect.
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsMarkdownTable } from '../dist/src/config/settings-table.js';
import { errorCodesMarkdownTable } from '../dist/src/server/dialects/error-table.js';
import { operationsMarkdownTable } from '../dist/src/server/dialects/operations-table.js';

const README = new URL('../README.md', import.meta.url);
const tables = { 'config-table': settingsMarkdownTable(), 'error-table': errorCodesMarkdownTable(), 'operations-table': operationsMarkdownTable() };
let text = readFileSync(README, 'utf8');
for (const [name, table] of Object.entries(tables)) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} section`);
  text = text.slice(0, from + start.length) + '\n' + table + '\n' + text.slice(to);
}
writeFileSync(README, text);
