import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, at any depth we log at. */
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

const REDACT_PATHS = REDACTED_KEYS.flatMap((key) => {
  const k = /^[A-Za-z_]\w*$/.test(key) ? key : `["${key}"]`;
  const dot = k.startsWith('[') ? '' : '.';
  return [k, `*${dot}${k}`, `*.*${dot}${k}`, `*.*.*${dot}${k}`];
});

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
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: { streamWrite: (line) => scrub(line, secrets) },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
