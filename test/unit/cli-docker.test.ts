/**
 * The Dockerfile and docker-compose.yml, checked without a Docker engine (none runs here): the
 * compose file's structure, that everything they reference exists, and that the environment they
 * give the daemon is a valid configuration.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../src/config.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}/${path}`, 'utf8');
const compose = read('docker-compose.yml');
const dockerfile = read('Dockerfile');
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

/** The lines of one service's block (two-space indented key under `services:`). */
function service(name: string): string {
  const start = compose.indexOf(`\n  ${name}:\n`);
  if (start < 0) return '';
  const rest = compose.slice(start + 1);
  const end = rest.slice(1).search(/\n( {2}[\w-]+:\n|\S)/);
  return end < 0 ? rest : rest.slice(0, end + 1);
}

/** `${VAR:-default}` → default, as compose interpolates with nothing set. */
const interpolate = (value: string) => value.replace(/\$\{\w+:-([^}]*)\}/g, '$1');

describe('docker-compose.yml', () => {
  it('is plain YAML of the expected shape', () => {
    expect(compose).not.toMatch(/\t/);
    for (const line of compose.split('\n')) {
      expect(line.length - line.trimStart().length, line).toSatisfy((n: number) => n % 2 === 0);
    }
    const top = compose
      .split('\n')
      .filter((l) => /^[a-z][\w-]*:/.test(l))
      .map((l) => l.split(':')[0]);
    expect(top).toEqual(['name', 'x-app', 'services', 'volumes']);
    for (const name of ['postgres', 'redis', 'simulator', 'migrate', 'daemon']) {
      expect(service(name), name).not.toBe('');
    }
  });

  it('wires every long-running service with a healthcheck, and the daemon after migrate', () => {
    for (const name of ['postgres', 'redis', 'simulator', 'daemon']) {
      expect(service(name), name).toMatch(/healthcheck:\n\s+test:/);
    }
    expect(service('daemon')).toMatch(/migrate:\n\s+condition: service_completed_successfully/);
    expect(service('migrate')).toMatch(/postgres:\n\s+condition: service_healthy/);
    expect(service('redis')).toContain("'--maxmemory-policy', 'noeviction', '--appendonly', 'yes'");
    expect(service('simulator')).toMatch(/SIM_HOST: 0\.0\.0\.0/);
  });

  it('references only scripts and files that exist', () => {
    for (const [, script] of compose.matchAll(/'npm', 'run', '([\w:-]+)'/g)) {
      expect(scripts[script ?? ''], `npm run ${script}`).toBeDefined();
    }
    // The images run the compiled code: dist/x.js is built from src/x.ts, and
    // dist-simulator/simulator/x.js from simulator/x.ts.
    const paths = [
      ...compose.matchAll(/'(dist(?:-simulator)?\/[\w/.-]+\.js)'/g),
      ...dockerfile.matchAll(/"(dist(?:-simulator)?\/[\w/.-]+\.js)"/g),
    ];
    expect(paths.length).toBeGreaterThan(2);
    for (const [, path = ''] of paths) {
      const source = path
        .replace(/^dist-simulator\//, '')
        .replace(/^dist\//, 'src/')
        .replace(/\.js$/, '.ts');
      expect(existsSync(`${ROOT}/${source}`), source).toBe(true);
    }
    expect(compose).not.toMatch(/tsx/);
  });

  it('gives the daemon a configuration that loads', () => {
    const env: Record<string, string> = {};
    const block = compose.slice(
      compose.indexOf('environment: &app-env'),
      compose.indexOf('\nservices:'),
    );
    for (const [, key, value] of block.matchAll(/^ {4}([A-Z_]+): (.+)$/gm)) {
      env[key ?? ''] = interpolate(value ?? '');
    }
    expect(Object.keys(env)).toContain('DATABASE_URL');
    const config = loadConfig({ ...env, HOST: '0.0.0.0', PORT: '8080' });
    expect(config.agentEngineUrl).toBe('http://simulator:8787');
  });

  it('starts no webhook route with a secret written in this repository (unset: the route answers 503)', () => {
    // Whatever compose would fill in with nothing set must not be a usable webhook secret.
    for (const [, key, value] of compose.matchAll(/^ +([A-Z_]*WEBHOOK[A-Z_]*): (.*)$/gm)) {
      expect(interpolate(value ?? ''), key).not.toMatch(/whsec_|\w{16,}/);
    }
    const env: Record<string, string> = {};
    for (const [, key, value] of compose.matchAll(/^ {4}([A-Z_]+): (.+)$/gm)) {
      env[key ?? ''] = interpolate(value ?? '').replace(/^'(.*)'$/, '$1');
    }
    const config = loadConfig({ ...env, HOST: '0.0.0.0', PORT: '8080' });
    expect(config.billingWebhookSecrets).toEqual([]);
    expect(config.stripeWebhookSecret).toBeUndefined();
  });
});

describe('Dockerfile', () => {
  it('is multi-stage, installs production dependencies only, and runs as non-root', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(5);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-slim$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    // The image runs the daemon exactly as `npm start` does (and as the bench measures it).
    expect(scripts.start).toBe('exec node --max-semi-space-size=4 dist/main.js');
    expect(dockerfile).toMatch(/^CMD \["node", "--max-semi-space-size=4", "dist\/main\.js"\]$/m);
  });

  it('ships the product without the simulator or the demo, and the simulator as its own target', () => {
    const stages = new Map(
      dockerfile
        .split(/^(?=FROM )/m)
        .slice(1)
        .map((text) => [/^FROM \S+ AS ([\w-]+)$/m.exec(text)?.[1] ?? '', text]),
    );
    expect([...stages.keys()]).toEqual([
      'build',
      'deps',
      'simulator-build',
      'simulator',
      'runtime',
    ]);
    // The product is last, so a plain `docker build .` builds it; compose names it for the daemon.
    const app = compose.slice(compose.indexOf('\nx-app:'), compose.indexOf('\nservices:'));
    expect(app).toMatch(/build:\n\s+context: \.\n\s+target: runtime\n/);
    expect(stages.get('build')).toMatch(/^COPY src \.\/src$/m);
    // `npm run build` bundles the CLI with build/cli.ts after compiling src/.
    expect(scripts.build).toContain('build/cli.ts');
    expect(stages.get('build')).toMatch(/^COPY build \.\/build$/m);
    expect(stages.get('build')).not.toMatch(/simulator|demo/);
    const runtime = stages.get('runtime') ?? '';
    expect(runtime).not.toMatch(/simulator|demo/);
    expect([...runtime.matchAll(/--from=([\w-]+)/g)].map((m) => m[1]).sort()).toEqual([
      'build',
      'deps',
    ]);
    const build = JSON.parse(read('tsconfig.build.json')) as {
      include: string[];
      compilerOptions: { rootDir: string };
    };
    expect(build.include).toEqual(['src']);
    expect(build.compilerOptions.rootDir).toBe('src');
    expect(stages.get('simulator')).toMatch(
      /^CMD \["node", "dist-simulator\/simulator\/main\.js"\]$/m,
    );
    expect(stages.get('simulator')).not.toMatch(/node_modules/);
    expect(service('simulator')).toMatch(/build:\n\s+context: \.\n\s+target: simulator\n/);
    expect(service('simulator')).not.toMatch(/<<: \*app/);
  });

  it('copies only what exists, and .dockerignore keeps secrets and node_modules out', () => {
    for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(?:--chown=\S+ )?(.+) \S+$/gm)) {
      for (const source of (sources ?? '').split(' '))
        expect(existsSync(`${ROOT}/${source}`), source).toBe(true);
    }
    const ignore = read('.dockerignore').split('\n');
    for (const entry of ['node_modules', '.env', '.git']) expect(ignore).toContain(entry);
  });
});
