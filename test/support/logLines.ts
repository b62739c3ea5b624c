/** A destination for a test's logger that keeps every line written to it, for the test to read. */
import { Writable } from 'node:stream';

export function logLines(): { readonly lines: string[]; readonly destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, destination };
}
