/**
 * Failed logins per client address, for the operator's pages (the console and the queue
 * dashboard share one count). After `maxFailures` wrong tokens within `windowMs` of the first,
 * the address is answered 429 with `Retry-After` until that window ends, the right token
 * included (else the limit would still answer "right" or "wrong" to every guess).
 *
 * The count is kept in this process's memory: each daemon behind one address keeps its own, so
 * N daemons allow N times the attempts. That is enough: DASHBOARD_TOKEN has at least 16
 * characters, so the limit blunts a scripted guesser and keeps it out of the logs rather than
 * being all that stands between it and the token; and a login that needs no Redis still works
 * when Redis is down, which is when an operator opens the console.
 */
import { isIPv6 } from 'node:net';

import type { Clock } from '../lib/clock.js';
import { MINUTE } from '../lib/duration.js';

export interface LoginLimitPolicy {
  /** Wrong tokens an address may present within the window. */
  readonly maxFailures: number;
  /** The window, from an address's first failure; the count starts again after it. */
  readonly windowMs: number;
  /** Addresses remembered at once; beyond it the oldest is forgotten (memory stays bounded). */
  readonly maxAddresses: number;
}

export const LOGIN_LIMIT: LoginLimitPolicy = Object.freeze({
  maxFailures: 10,
  windowMs: 15 * MINUTE,
  maxAddresses: 10_000,
});

export interface LoginLimiter {
  /** 0 if the address may try to log in; else how long it must wait, in ms. */
  waitMs(address: string): number;
  /** A wrong token from the address; true when this failure is the one that limits it. */
  failed(address: string): boolean;
  /** The right token: the address starts afresh. */
  succeeded(address: string): void;
}

interface Count {
  failures: number;
  readonly since: number;
}

export function createLoginLimiter(clock: Clock, policy: LoginLimitPolicy = LOGIN_LIMIT) {
  const counts = new Map<string, Count>();
  const current = (key: string): Count | undefined => {
    const count = counts.get(key);
    if (count && clock.now() - count.since >= policy.windowMs) counts.delete(key);
    return counts.get(key);
  };
  const makeRoom = () => {
    for (const key of counts.keys()) current(key);
    while (counts.size >= policy.maxAddresses) {
      const oldest = counts.keys().next();
      if (oldest.done) break;
      counts.delete(oldest.value);
    }
  };
  const limiter: LoginLimiter = {
    waitMs: (address) => {
      const count = current(addressKey(address));
      if (!count || count.failures < policy.maxFailures) return 0;
      return count.since + policy.windowMs - clock.now();
    },
    failed: (address) => {
      const key = addressKey(address);
      let count = current(key);
      if (!count) {
        if (counts.size >= policy.maxAddresses) makeRoom();
        count = { failures: 0, since: clock.now() };
        counts.set(key, count);
      }
      count.failures += 1;
      return count.failures === policy.maxFailures;
    },
    succeeded: (address) => void counts.delete(addressKey(address)),
  };
  return limiter;
}

/**
 * The address a count is kept under: an IPv4 address as is (also when IPv6-mapped), an IPv6
 * address by its /64, the smallest block one subscriber is given (else each of its 2^64
 * addresses would be a fresh start).
 */
export function addressKey(address: string): string {
  const ip = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head = '', tail] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  const prefix = [...left, ...zeros, ...right].slice(0, 4).map((g) => parseInt(g, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}
