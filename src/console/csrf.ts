/**
 * CSRF protection for the console's POSTs: a signed double-submit token. The browser holds a
 * random nonce in an HttpOnly, SameSite=Strict cookie; every form carries HMAC(key, nonce), the
 * key derived from DASHBOARD_TOKEN (so every daemon behind one address agrees, and nobody without
 * the token can mint one). Another site can make the browser send the cookie, but cannot read a
 * page to learn the form's token.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CSRF_COOKIE = 'console_csrf';
export const CSRF_FIELD = '_csrf';

export interface Csrf {
  /** A fresh nonce for a browser that has none (goes in the cookie). */
  nonce(): string;
  /** The token forms carry for this nonce. */
  token(nonce: string): string;
  /** Does the form's token match the cookie's nonce? */
  verify(nonce: string | undefined, token: string | undefined): boolean;
}

export function createCsrf(secret: string): Csrf {
  const key = createHmac('sha256', secret).update('customer-sync console csrf').digest();
  const token = (nonce: string) => createHmac('sha256', key).update(nonce).digest('base64url');
  return {
    nonce: () => randomBytes(24).toString('base64url'),
    token,
    verify: (nonce, presented) => {
      if (!nonce || !presented) return false;
      const expected = Buffer.from(token(nonce));
      const given = Buffer.from(presented);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

/** One cookie's value from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
