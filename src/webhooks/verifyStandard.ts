/**
 * Standard Webhooks verification (https://www.standardwebhooks.com), under the `webhook-*` or the
 * `svix-*` header names: the signature is
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, several may be sent space-separated, and the
 * timestamp must be within ±5 minutes.
 *
 * The `standardwebhooks` library checks the secrets at start; the HMAC is computed here, over the
 * raw bytes (the library's `sign()` decodes a Buffer as UTF-8 first, so a body that is not UTF-8
 * could not verify), and the timestamp is checked against the injected clock, because the
 * library's own `verify()` reads `Date.now()` and so cannot be tested at a set time
 * (HOUSE_STYLE §5). Signatures are compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

import { Webhook } from 'standardwebhooks';

import type { Verdict } from './types.js';

/** How far a delivery's timestamp may be from now, either way. */
export const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

/** Checks a delivery's headers and raw body at a time (ms); accepts any of several secrets. */
export type StandardVerifier = (
  raw: Buffer,
  headers: IncomingHttpHeaders,
  nowMs: number,
) => Verdict;

/**
 * Builds a verifier for the given `whsec_…` secrets (tried in turn, for rotation). Throws at once
 * on a secret the library cannot decode, so a bad one stops the program at start.
 */
export function createStandardVerifier(secrets: readonly string[]): StandardVerifier {
  // `new Webhook` throws on a secret it cannot decode; the key is the base64 after `whsec_`.
  const keys = secrets.map((secret) => {
    new Webhook(secret);
    return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  });
  return (raw, headers, nowMs) => {
    const { id, timestamp, signatures } = standardHeaders(headers);
    if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing webhook headers' };
    if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'invalid webhook-timestamp' };
    const seconds = Number(timestamp);
    if (Math.abs(nowMs / 1000 - seconds) > SIGNATURE_TOLERANCE_SECONDS) {
      return { ok: false, reason: 'timestamp outside tolerance' };
    }
    const offered = signatures
      .split(' ')
      .filter((s) => s.startsWith('v1,'))
      .map((s) => Buffer.from(s.slice(3)));
    for (const key of keys) {
      const hmac = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(raw);
      const expected = Buffer.from(hmac.digest('base64'));
      if (offered.some((sig) => sig.length === expected.length && timingSafeEqual(sig, expected))) {
        return { ok: true, signedAtMs: seconds * 1000 };
      }
    }
    return { ok: false, reason: 'no matching signature' };
  };
}

/**
 * The three headers, as `webhook-*` or as Svix-powered senders name them (`svix-*`): the same
 * scheme under Svix's original names. A set is taken whole from one family, never mixed.
 */
export function standardHeaders(headers: IncomingHttpHeaders): {
  id: string | undefined;
  timestamp: string | undefined;
  signatures: string | undefined;
} {
  const prefix = headers['webhook-id'] !== undefined ? 'webhook' : 'svix';
  return {
    id: single(headers[`${prefix}-id`]),
    timestamp: single(headers[`${prefix}-timestamp`]),
    signatures: single(headers[`${prefix}-signature`]),
  };
}

/** A header's one value; a repeated header is refused rather than guessed at. */
export function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
