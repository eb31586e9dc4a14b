// `npm test`: builds the service, starts it on the sandbox on a free loopback port, runs
// every suite in test/ with Node's test runner against it, and stops it.
//
// E2E_BASE_URL=http://127.0.0.1:8080/ npm test runs the suites against a service that is
// already running instead (it must be on the sandbox: the suites compare with its data).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const artifacts = path.join(here, 'artifacts');
const READY = 'GraphiQL ready; GraphQL at /graphql';
const START_TIMEOUT_MS = 60_000;
const SUITES_TIMEOUT_MS = 170_000;

fs.mkdirSync(artifacts, { recursive: true });
const suites = fs.readdirSync(path.join(here, 'test'))
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => path.join('test', f));

let service;
let tmp;
let code = 1;
try {
  let baseURL = process.env.E2E_BASE_URL;
  if (!baseURL) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'facade-e2e-'));
    baseURL = await startService(tmp);
  }
  console.log(`e2e: service at ${baseURL}; suites: ${suites.join(' ')}`);
  code = await runSuites(baseURL);
} catch (err) {
  console.error(`e2e: ${err.message}`);
  code = 1;
} finally {
  await stopService();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);

// startService builds the binary into dir and starts it; it resolves with the address the
// service logs once it listens.
async function startService(dir) {
  const bin = path.join(dir, 'facade');
  console.log(`e2e: go build -o ${bin} .`);
  const build = spawnSync('go', ['build', '-o', bin, '.'], { cwd: repo, stdio: 'inherit', timeout: 300_000 });
  if (build.status !== 0) throw new Error(`go build failed (${build.error?.message ?? `exit ${build.status}`})`);

  // MUTATIONS: the Apollo suite writes a customer's offers and reads its cache back.
  const env = { ...process.env, LISTEN_ADDR: '127.0.0.1:0', LOG_FORMAT: 'json', LOG_LEVEL: 'info', MUTATIONS: 'true' };
  // The suites compare with the sandbox's seeded data: never point them at a real account.
  for (const k of Object.keys(env)) {
    if (k.startsWith('KAJABI_') || k.startsWith('SANDBOX_')) delete env[k];
  }
  service = spawn(bin, [], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const log = fs.createWriteStream(path.join(artifacts, 'service.log'));
  const lines = readline.createInterface({ input: service.stderr });

  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not log "${READY}" within ${START_TIMEOUT_MS / 1000}s (see artifacts/service.log)`)), START_TIMEOUT_MS);
    service.once('exit', (status, signal) => {
      clearTimeout(timer);
      reject(new Error(`the service exited (${signal ?? status}) before it was ready (see artifacts/service.log)`));
    });
    lines.on('line', (line) => {
      log.write(line + '\n');
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.message === READY && entry.addr) {
        clearTimeout(timer);
        resolve(entry.addr);
      }
    });
  });
}

// runSuites runs the suites one file after another (the browser suite wants the machine's
// two cores) with the spec reporter, whose closing summary CI reads.
function runSuites(baseURL) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...suites], {
      cwd: here,
      env: { ...process.env, E2E_BASE_URL: baseURL },
      stdio: 'inherit',
    });
    const timer = setTimeout(() => {
      console.error(`e2e: the suites ran past ${SUITES_TIMEOUT_MS / 1000}s; stopping them`);
      child.kill('SIGKILL');
    }, SUITES_TIMEOUT_MS);
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      resolve(signal ? 1 : status ?? 1);
    });
  });
}

// stopService asks the service to shut down gracefully and kills it if it has not after 10s.
async function stopService() {
  if (!service || service.exitCode !== null || service.signalCode !== null) return;
  const exited = new Promise((resolve) => service.once('exit', resolve));
  service.kill('SIGTERM');
  const timer = setTimeout(() => service.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
