// Registered with `node --import`: writes the URL of every module loaded to the file named by
// LOAD_LOG, one a line (test/unit/idle-imports.test.ts reads it).
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import process from 'node:process';

if (!import.meta.url.endsWith('?hooks')) register(`${import.meta.url}?hooks`);

export async function load(url, context, next) {
  appendFileSync(process.env.LOAD_LOG, `${url}\n`);
  return next(url, context);
}
