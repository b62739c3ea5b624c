import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, at any depth we log at (see `redactKeys`). */
export const REDACTED_KEYS = [
  'authorization',
  'Authorization',
  'client_secret',
  'clientSecret',
  'access_token',
  'accessToken',
  'token',
  'secret',
  'password',
  'webhook-signature',
  'stripe-signature',
];

const REDACTED = new Set(REDACTED_KEYS);
const CENSOR = '[redacted]';
/** How deep into a logged object keys are checked: `key`, `a.key`, `a.b.key`, `a.b.c.key`. */
const REDACT_DEPTH = 4;

const isPlain = (value: object): value is Record<string, unknown> => {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * `value` with the value of every key in REDACTED_KEYS replaced, in plain objects and arrays down
 * to `depth` levels. Copies only what it changes (the caller's object is never mutated) and
 * returns `value` itself when nothing matched, so a line without secrets costs a key lookup per
 * property. (pino's own `redact` with wildcard paths cost ~180 µs a line here, about 40× the
 * rest of the line; see docs/performance.md.)
 */
export function redactKeys(value: unknown, depth = REDACT_DEPTH): unknown {
  if (depth === 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const censored = redactKeys(item, depth - 1);
      if (censored !== item) (copy ??= [...value])[i] = censored;
    });
    return copy ?? value;
  }
  if (!isPlain(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = value[key];
    const censored = REDACTED.has(key) ? CENSOR : redactKeys(item, depth - 1);
    if (censored !== item) (copy ??= { ...value })[key] = censored;
  }
  return copy ?? value;
}

/** A JWT anywhere in a string: three base64url parts, the first starting with `eyJ`. */
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/g;

/**
 * Replaces every known secret value and anything shaped like a JWT with `[redacted]`. Applied to
 * each finished log line and to error messages that quote an outside answer.
 */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(JWT, '[redacted]');
  for (const secret of secrets) {
    if (secret.length >= 6) out = out.split(secret).join('[redacted]');
  }
  return out;
}

export interface LoggerOptions {
  level: string;
  /** Values that must never be printed (the client secret, webhook secrets). */
  secrets?: readonly string[];
  /** Where lines go; stderr by default so `--json` output on stdout stays clean. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  const secrets = options.secrets ?? [];
  return pino(
    {
      level: options.level,
      base: options.base ?? { pid: process.pid },
      // Top-level keys, child bindings included, through pino's own redaction (cheap without
      // wildcards); nested keys through `redactKeys`.
      redact: { paths: REDACTED_KEYS.map((key) => `["${key}"]`), censor: CENSOR },
      formatters: {
        log: (object) => redactKeys(object) as Record<string, unknown>,
      },
      hooks: { streamWrite: (line) => scrub(line, secrets) },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
