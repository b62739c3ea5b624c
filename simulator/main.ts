/**
 * `npm run sim`: the simulator on its own, for local runs and docker-compose. Reads SIM_HOST,
 * SIM_PORT (0 picks a free port), SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_APP_TOKEN_TTL and
 * SIM_SCOPED_TOKEN_TTL; prints `listening on http://HOST:PORT` once it accepts requests; stops on
 * SIGTERM or SIGINT with exit code 0. A bad value stops it at once with one line naming it.
 */
import { simulatorOptionsFromEnv } from './env.js';
import { type SimulatorOptions, startSimulator } from './index.js';

async function main(): Promise<void> {
  let options: SimulatorOptions;
  try {
    options = simulatorOptionsFromEnv(process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const sim = await startSimulator(options);
  process.stdout.write(`listening on ${sim.url}\n`);
  const stop = (): void => {
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

await main();
