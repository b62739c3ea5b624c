/** The recorded webhook payloads in test/fixtures/webhooks/, one JSON file per event. */
import { readFileSync } from 'node:fs';

/** A payload as tests edit it: any field, at any depth, without ceremony. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures are edited freely in tests
export type Payload = Record<string, any>;

/** Where the recorded payloads live, for tests that list them. */
export const FIXTURES = new URL('../fixtures/webhooks/', import.meta.url);

/** A recorded payload (`route/event`), parsed afresh each time so tests may change it. */
export function fixture(name: string): Payload {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8'));
}
