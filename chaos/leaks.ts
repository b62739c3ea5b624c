/**
 * The leak scan: the client secret, the webhook secrets and every token the simulator issued must
 * appear in no log line, no Redis value and no Postgres row. Tokens are matched by their random
 * signature part (43 base64url characters), so a token cut from its header or payload is still
 * caught, and anything shaped like a JWT is reported too.
 */
import type { Redis } from 'ioredis';

const SIGNATURE_LENGTH = 43;
const RUN = /[A-Za-z0-9_-]{43,}/g;
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{20,}/;

export class LeakScanner {
  readonly #plain: string[];
  readonly #signatures = new Set<string>();
  #tokenCount = 0;
  /** Where each leak was found, with the secret's kind (never the secret itself). */
  readonly found: string[] = [];
  scanned = { logLines: 0, redisKeys: 0, postgresBytes: 0 };

  /** `secrets` are matched as plain substrings (and their base64 key part for `whsec_` ones). */
  constructor(secrets: readonly string[]) {
    this.#plain = secrets.flatMap((s) => (s.startsWith('whsec_') ? [s, s.slice(6)] : [s]));
  }

  /** The tokens to look for (the journal's list, which only grows: call before each scan). */
  setTokens(tokens: readonly string[]): void {
    for (let i = this.#tokenCount; i < tokens.length; i++) {
      const token = tokens[i] as string;
      this.#signatures.add(token.slice(token.lastIndexOf('.') + 1));
    }
    this.#tokenCount = tokens.length;
  }

  get tokenCount(): number {
    return this.#tokenCount;
  }

  logLine(source: string, line: string): void {
    this.scanned.logLines++;
    this.#check(`log of ${source}`, line);
  }

  /** Reads every key's value by its type (DUMP output is compressed, so it could hide one). */
  async redis(redis: Redis, label: string): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        this.scanned.redisKeys++;
        this.#check(`Redis key name (${label})`, key);
        this.#check(`Redis ${key} (${label})`, await valueOf(redis, key));
      }
    } while (cursor !== '0');
  }

  postgres(dump: string): void {
    this.scanned.postgresBytes += dump.length;
    for (const line of dump.split('\n')) this.#check('Postgres row', line);
  }

  #check(where: string, text: string): void {
    for (const secret of this.#plain) {
      if (text.includes(secret)) this.#report(`a configured secret in ${where}`);
    }
    if (JWT.test(text)) this.#report(`a JWT-shaped string in ${where}`);
    for (const run of text.match(RUN) ?? []) {
      for (let i = 0; i + SIGNATURE_LENGTH <= run.length; i++) {
        if (this.#signatures.has(run.slice(i, i + SIGNATURE_LENGTH))) {
          this.#report(`an issued token in ${where}`);
          return;
        }
      }
    }
  }

  #report(what: string): void {
    if (this.found.length < 20) this.found.push(what);
    else if (this.found.length === 20) this.found.push('…');
  }
}

async function valueOf(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return (await redis.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return (await redis.lrange(key, 0, -1)).join('\n');
    case 'set':
      return (await redis.smembers(key)).join('\n');
    case 'zset':
      return (await redis.zrange(key, 0, -1, 'WITHSCORES')).join('\n');
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}
