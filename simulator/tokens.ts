/**
 * Application and scoped tokens. They look like JWTs (three base64url parts, `eyJ…`) but carry
 * nothing a client may rely on: the simulator remembers what each one stands for. Expiry reads the
 * injected clock, so tests expire a token by moving a ManualClock.
 */
import { randomBytes } from 'node:crypto';

import type { Clock } from '../src/lib/clock.js';

/** What a token stands for. */
export type TokenGrant =
  { readonly kind: 'application' } | { readonly kind: 'scoped'; readonly workspaceId: string };

/** The outcome of checking a bearer token. */
export type TokenCheck =
  | { readonly ok: true; readonly grant: TokenGrant }
  | { readonly ok: false; readonly detail: 'Token expired' | 'Invalid token' };

interface Issued {
  readonly grant: TokenGrant;
  readonly expiresAt: number;
  readonly serial: number;
}

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
/** Past this many remembered tokens, expired ones are forgotten on the next mint. */
const PRUNE_AT = 50_000;

/** Mints and checks the tokens of one simulator. */
export class TokenIssuer {
  readonly #clock: Clock;
  readonly #issued = new Map<string, Issued>();
  #serial = 0;
  /** Tokens with a serial at or below this were revoked. */
  #revokedUpTo = 0;

  readonly #onMint: (token: string) => void;

  /** `onMint` sees every token issued (the journal keeps them for leak checks). */
  constructor(clock: Clock, onMint: (token: string) => void = () => {}) {
    this.#clock = clock;
    this.#onMint = onMint;
  }

  /** A new random token for `grant`, valid for `ttlMs` from now. */
  mint(grant: TokenGrant, ttlMs: number): string {
    if (this.#issued.size >= PRUNE_AT) this.#prune();
    const serial = ++this.#serial;
    const now = this.#clock.now();
    const payload = base64url(
      JSON.stringify({
        sub: grant.kind === 'scoped' ? grant.workspaceId : 'application',
        typ: grant.kind,
        iat: Math.floor(now / 1000),
        exp: Math.floor((now + ttlMs) / 1000),
        jti: randomBytes(12).toString('hex'),
      }),
    );
    const token = `${HEADER}.${payload}.${randomBytes(32).toString('base64url')}`;
    this.#issued.set(token, { grant, expiresAt: now + ttlMs, serial });
    this.#onMint(token);
    return token;
  }

  /** Checks a bearer token: unknown or revoked → `Invalid token`, past its time → `Token expired`. */
  check(token: string): TokenCheck {
    const issued = this.#issued.get(token);
    if (!issued || issued.serial <= this.#revokedUpTo)
      return { ok: false, detail: 'Invalid token' };
    if (this.#clock.now() >= issued.expiresAt) return { ok: false, detail: 'Token expired' };
    return { ok: true, grant: issued.grant };
  }

  /** When a known, unrevoked token expired, if it has; undefined for a live or refused one. */
  expiredAt(token: string): number | undefined {
    const issued = this.#issued.get(token);
    if (!issued || issued.serial <= this.#revokedUpTo) return undefined;
    return this.#clock.now() >= issued.expiresAt ? issued.expiresAt : undefined;
  }

  /** Every token issued so far is refused from now on; later mints are fine. */
  revokeAll(): void {
    this.#revokedUpTo = this.#serial;
  }

  #prune(): void {
    const now = this.#clock.now();
    for (const [token, issued] of this.#issued) {
      if (issued.expiresAt <= now || issued.serial <= this.#revokedUpTo) this.#issued.delete(token);
    }
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
