import { describe, expect, it } from 'vitest';

import { addressKey, createLoginLimiter } from '../../src/http/loginLimit.js';
import { sameOrigin } from '../../src/http/operatorGuard.js';
import { ManualClock } from '../../src/lib/clock.js';
import { MINUTE, SECOND } from '../../src/lib/duration.js';

const POLICY = { maxFailures: 3, windowMs: 10 * MINUTE, maxAddresses: 4 };

describe('the failed-login limit', () => {
  it('limits an address after its failures, until the window of the first one ends', () => {
    const clock = new ManualClock(0);
    const logins = createLoginLimiter(clock, POLICY);
    expect(logins.failed('10.0.0.1')).toBe(false);
    clock.advance(MINUTE);
    expect(logins.failed('10.0.0.1')).toBe(false);
    expect(logins.waitMs('10.0.0.1')).toBe(0);
    expect(logins.failed('10.0.0.1')).toBe(true); // the one that limits it, logged once
    expect(logins.waitMs('10.0.0.1')).toBe(9 * MINUTE);
    expect(logins.waitMs('10.0.0.2')).toBe(0); // another address is not affected
    clock.advance(9 * MINUTE - SECOND);
    expect(logins.waitMs('10.0.0.1')).toBe(SECOND);
    clock.advance(SECOND);
    expect(logins.waitMs('10.0.0.1')).toBe(0);
    expect(logins.failed('10.0.0.1')).toBe(false); // a fresh window
  });

  it('starts an address afresh after the right token', () => {
    const clock = new ManualClock(0);
    const logins = createLoginLimiter(clock, POLICY);
    logins.failed('10.0.0.1');
    logins.failed('10.0.0.1');
    logins.succeeded('10.0.0.1');
    logins.failed('10.0.0.1');
    expect(logins.waitMs('10.0.0.1')).toBe(0);
  });

  it('remembers a bounded number of addresses, forgetting the oldest', () => {
    const clock = new ManualClock(0);
    const logins = createLoginLimiter(clock, POLICY);
    for (let i = 1; i <= 3; i++) logins.failed('10.0.0.1');
    for (let i = 2; i <= 4; i++) logins.failed(`10.0.0.${i}`);
    expect(logins.waitMs('10.0.0.1')).toBeGreaterThan(0);
    logins.failed('10.0.0.5'); // a fifth address: the oldest goes
    expect(logins.waitMs('10.0.0.1')).toBe(0);
  });

  it('counts IPv6 by its /64 and an IPv4-mapped address as the IPv4 one', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    const logins = createLoginLimiter(new ManualClock(0), POLICY);
    for (let i = 1; i <= 3; i++) logins.failed(`2001:db8:1:2::${i}`);
    expect(logins.waitMs('2001:db8:1:2:ffff::9')).toBeGreaterThan(0);
    expect(logins.waitMs('2001:db8:1:3::1')).toBe(0);
  });
});

describe('a change from the daemon’s own pages', () => {
  const host = 'ops.example.com:8080';
  it.each([
    [{ 'sec-fetch-site': 'same-origin' }, true],
    [{ 'sec-fetch-site': 'same-origin', origin: 'https://proxy.example' }, true],
    [{ 'sec-fetch-site': 'same-site' }, false],
    [{ 'sec-fetch-site': 'cross-site', origin: `http://${host}` }, false],
    [{ 'sec-fetch-site': 'none' }, false],
    [{ origin: `http://${host}` }, true],
    [{ origin: `https://${host.toUpperCase()}` }, true],
    [{ origin: 'https://evil.example' }, false],
    [{ origin: `http://${host}.evil.example` }, false],
    [{ origin: 'null' }, false],
    [{}, true], // no browser: a script with the token, which no site can make a browser send
  ])('%j → %s', (headers, expected) => {
    expect(sameOrigin({ host, ...headers })).toBe(expected);
  });
});
