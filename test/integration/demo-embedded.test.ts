/**
 * `npm run demo` on a machine where nothing answers at the default addresses and no
 * DATABASE_URL / REDIS_URL is set: it starts a real Postgres and a real Redis of its own in its
 * data folder (one line each), converges on them, stops them on SIGTERM leaving no process, keeps
 * its state across a restart, and starts clean with `--reset`.
 *
 * "Nothing answers at the defaults" is a fresh network namespace (`unshare -n`, loopback up) when
 * we are root and may make one, as CI is; elsewhere the demo's test switch
 * EMBEDDED_TEST_DEFAULTS_CLOSED=1, which looks for the defaults at a closed port instead.
 */
import { spawnSync } from 'node:child_process';

import { expect, it } from 'vitest';

import {
  embeddedDataDir,
  embeddedServerPids,
  leftovers,
  type Program,
  startProgram,
} from '../support/processes.js';
import { waitFor } from '../support/wait.js';

const DIR = embeddedDataDir('cs-demo-embedded-');

/** Whether a network namespace with its loopback up can be made here. */
function namespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up']).status === 0;
}
const IN_NAMESPACE = namespaces();

type Demo = Program;

function startDemo(args: string[] = []): Demo {
  const env = {
    EMBEDDED_DIR: DIR,
    PORT: '0',
    ...(IN_NAMESPACE ? {} : { EMBEDDED_TEST_DEFAULTS_CLOSED: '1' }),
  };
  const demo = ['npm', 'run', 'demo', ...(args.length ? ['--', ...args] : [])];
  // `exec` all the way down: the pid is npm's, which hands SIGTERM to the demo.
  const [command, ...rest] = IN_NAMESPACE
    ? ['unshare', '-n', 'sh', '-c', `ip link set lo up && exec ${demo.join(' ')}`]
    : demo;
  return startProgram(command as string, rest, env);
}

async function untilConverged(demo: Demo): Promise<void> {
  let exit: number | string | undefined;
  void demo.exited.then((code) => (exit = code));
  const output = () => `stdout:\n${demo.out()}\nstderr:\n${demo.err()}`;
  await waitFor(
    () => exit !== undefined || (/^converged: /m.test(demo.out()) && demo.out().includes('Ctrl-C')),
    { timeoutMs: 90_000, intervalMs: 100, what: 'the converged line' },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; ${output()}`);
  });
  if (exit !== undefined)
    throw new Error(`the demo exited (${exit}) before converging; ${output()}`);
}

/** SIGTERM, a clean exit, and nothing of the servers left running. */
async function stopLeavingNothing(demo: Demo): Promise<void> {
  const pids = embeddedServerPids(DIR);
  expect(pids.every((p) => Number.isInteger(p) && p > 0)).toBe(true);
  demo.child.kill('SIGTERM');
  expect(await demo.exited).toBe(0);
  expect(demo.out()).toMatch(/demo stopped\n$/);
  expect(leftovers(pids, DIR)).toEqual([]);
}

const EMBEDDED_LINE = (service: string) =>
  new RegExp(
    `^${service}: nothing answers at 127\\.0\\.0\\.1:\\d+; started an embedded one in \\d+\\.\\ds \\(data in ${DIR}/${service.toLowerCase()}\\)$`,
    'm',
  );

it(`converges on embedded servers, stops leaving no process, and keeps its state across a restart (${IN_NAMESPACE ? 'network namespace' : 'defaults at a closed port'})`, async () => {
  const first = startDemo();
  await untilConverged(first);
  expect(first.out()).toMatch(EMBEDDED_LINE('Postgres'));
  expect(first.out()).toMatch(EMBEDDED_LINE('Redis'));
  expect(first.out()).toMatch(/^loaded 48 sample customers/m);
  expect(first.out()).toMatch(/^converged: 46 workspaces in step with 48 customers/m);
  await stopLeavingNothing(first);

  // The same folder again: the customers, links and workspaces are as the first run left them.
  const second = startDemo();
  await untilConverged(second);
  expect(second.out()).toMatch(EMBEDDED_LINE('Postgres'));
  expect(second.out()).toMatch(/^kept the last run's customers, links and workspaces/m);
  expect(second.out()).not.toMatch(/^loaded /m);
  expect(second.out()).toMatch(/Plan: 0 changes for 48 customers and 48 workspaces/);
  expect(second.out()).toMatch(/^converged: 46 workspaces in step with 48 customers/m);
  await stopLeavingNothing(second);
});

it('starts clean with --reset', async () => {
  const demo = startDemo(['--reset']);
  await untilConverged(demo);
  expect(demo.out()).toMatch(/^loaded 48 sample customers/m);
  expect(demo.out()).toMatch(/Plan: 46 changes for 48 customers and 2 workspaces/);
  expect(demo.out()).toMatch(/^converged: 46 workspaces in step with 48 customers/m);
  await stopLeavingNothing(demo);
});
