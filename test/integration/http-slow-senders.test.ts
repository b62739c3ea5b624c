/**
 * Slow senders cannot exhaust the daemon: sockets that send half a request and go idle (or trickle
 * it a byte at a time) are closed by the server within its timeouts, a cap bounds how many are
 * open at once, and a normal signed webhook is answered within a second meanwhile. The timeouts
 * are shortened for the test (the production values, checked below, are under a minute).
 */
import { connect, type Socket } from 'node:net';

import { describe, expect, it } from 'vitest';

import { fixture } from '../support/webhookFixtures.js';
import { newBillingSecret, signStandardWebhooks } from '../support/webhookSigners.js';
import { waitFor } from '../support/wait.js';
import { databaseSuite } from '../support/webhookSuite.js';

const NOW = Date.parse('2026-11-28T12:05:00.000Z');
const { startServer } = databaseSuite({ now: NOW });

const SHORT = {
  headersTimeoutMs: 2_000,
  requestTimeoutMs: 3_000,
  idleTimeoutMs: 2_500,
  keepAliveTimeoutMs: 2_000,
  checkEveryMs: 100,
  maxConnections: 1_000,
};

/** A socket the test opened, and when the server closed it. */
interface Stalled {
  readonly socket: Socket;
  /** The client's port: the server sees it as the remote port (read before the socket closes). */
  port: number;
  closedAt: number | undefined;
  /** Keeps sending a byte now and then, so the idle timeout alone never fires. */
  trickle?: NodeJS.Timeout;
}

const HEAD = (length: number) =>
  `POST /webhooks/billing HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n`;

/** Four ways to stall: half the headers, or all of them and half the body; idle, or trickling. */
function stall(url: string, kind: number): Promise<Stalled> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const stalled: Stalled = { socket, port: 0, closedAt: undefined };
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.once('close', () => {
      stalled.closedAt = Date.now();
      clearInterval(stalled.trickle);
    });
    socket.once('connect', () => {
      stalled.port = socket.localPort ?? 0;
      const headersDone = kind >= 2;
      socket.write(headersDone ? `${HEAD(1000)}\r\n{"type":` : HEAD(1000));
      if (kind % 2 === 1) {
        stalled.trickle = setInterval(() => socket.write(headersDone ? ' ' : 'X'), 200);
      }
      resolve(stalled);
    });
    socket.once('error', reject);
  });
}

describe('slow senders', () => {
  it('a few hundred stalled sockets are closed within the timeouts, and a webhook is answered within a second meanwhile', async () => {
    const secret = newBillingSecret();
    await using server = await startServer({
      secrets: { billing: [secret] },
      limits: SHORT,
    });
    const body = JSON.stringify(fixture('billing/customer.created'));
    const webhook = async () => {
      const sent = Date.now();
      const headers = signStandardWebhooks(secret, body, { timestamp: NOW / 1000 });
      expect((await server.post('/webhooks/billing', body, headers)).status).toBe(200);
      return Date.now() - sent;
    };
    const quietMs = await webhook();
    // When the server accepted each socket, by the client's port: its lifetime starts there.
    const acceptedAt = new Map<number, number>();
    server.server.app.server.on('connection', (socket: Socket) => {
      acceptedAt.set(socket.remotePort ?? 0, Date.now());
    });
    const start = Date.now();
    const sockets = await Promise.all(
      Array.from({ length: 300 }, (_, i) => stall(server.url, i % 4)),
    );
    try {
      // The attack in place: every stalled socket accepted by the server.
      await waitFor(() => acceptedAt.size >= sockets.length, { timeoutMs: 10_000 });
      const openedMs = Date.now() - start;
      const answeredMs = await webhook();
      expect(answeredMs, `answered in ${answeredMs} ms; ${quietMs} ms before`).toBeLessThan(1_000);

      // The whole-request deadline, one check, and slack for a loaded machine's late timers.
      const deadline = SHORT.requestTimeoutMs + SHORT.checkEveryMs + 1_500;
      const open = () => sockets.filter((s) => s.closedAt === undefined).length;
      await waitFor(() => open() === 0, { timeoutMs: deadline, intervalMs: 50 }).catch(() => {
        expect(open(), `stalled sockets still open after ${deadline} ms`).toBe(0);
      });
      const closed = sockets.map(
        (s) => (s.closedAt ?? Infinity) - (acceptedAt.get(s.port) ?? -Infinity),
      );
      // Whatever the kind, no socket outlives the whole-request deadline (plus one check).
      expect(Math.max(...closed)).toBeLessThan(deadline);
      // Trickling sockets are closed by the header or request deadline, not by the idle timeout.
      const trickling = closed.filter((_, i) => i % 2 === 1);
      expect(Math.min(...trickling)).toBeGreaterThanOrEqual(SHORT.headersTimeoutMs - 200);
      const kinds = ['headers idle', 'headers trickled', 'body idle', 'body trickled'];
      const spans = kinds.map((kind, k) => {
        const ms = closed.filter((_, i) => i % 4 === k);
        return `${kind} ${Math.min(...ms)}-${Math.max(...ms)} ms`;
      });
      console.info(
        `slow senders: 300 opened in ${openedMs} ms; webhook answered in ${answeredMs} ms ` +
          `(${quietMs} ms before, the first of the server); stalled sockets closed after ` +
          spans.join(', '),
      );
    } finally {
      for (const s of sockets) {
        clearInterval(s.trickle);
        s.socket.destroy();
      }
    }
  });

  it('caps the connections open at once: those over the cap are closed as they arrive', async () => {
    await using server = await startServer({
      limits: {
        ...SHORT,
        maxConnections: 20,
        idleTimeoutMs: 30_000,
        headersTimeoutMs: 30_000,
        requestTimeoutMs: 30_000,
      },
    });
    const sockets = await Promise.all(Array.from({ length: 30 }, () => stall(server.url, 0)));
    try {
      await waitFor(() => sockets.filter((s) => s.closedAt !== undefined).length >= 10, {
        timeoutMs: 5_000,
        what: 'the server to refuse the connections over its cap',
      });
      expect(sockets.filter((s) => s.closedAt === undefined)).toHaveLength(20);
    } finally {
      for (const s of sockets) s.socket.destroy();
    }
  });

  it('the production server closes a stalled socket within a minute and caps connections', async () => {
    await using server = await startServer();
    const node = server.server.app.server;
    for (const [name, ms] of [
      ['headersTimeout', node.headersTimeout],
      ['requestTimeout', node.requestTimeout],
      ['timeout', node.timeout],
      ['keepAliveTimeout', node.keepAliveTimeout],
    ] as const) {
      expect(ms, name).toBeGreaterThan(0);
      expect(ms, name).toBeLessThanOrEqual(60_000);
    }
    expect(node.maxConnections).toBeGreaterThanOrEqual(100);
    expect(node.maxConnections).toBeLessThanOrEqual(10_000);
  });
});
