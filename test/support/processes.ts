/** What a test needs to show that a program left no process behind. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The embedded servers' pids, from the pid files they keep in the data folder `dir`. */
export function embeddedServerPids(dir: string): number[] {
  const pid = (file: string) => Number(readFileSync(join(dir, file), 'utf8').split('\n')[0]);
  return [pid('postgres/postmaster.pid'), pid('redis/redis.pid')];
}

/** Every process still running that is one of `pids`, a child of one, or names `dir`. */
export function leftovers(pids: readonly number[], dir: string): string[] {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return table
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => {
      const [pid, ppid] = line.split(/\s+/).map(Number);
      return pids.includes(pid as number) || pids.includes(ppid as number) || line.includes(dir);
    })
    .filter((line) => !line.includes(' ps -eo '));
}
