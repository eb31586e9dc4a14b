// The moving parts of the federation suite, each on its own loopback port and each stopped
// by the function it returns: a counting HTTP proxy, a second facade process pointed at a
// Kajabi through such a proxy, the test's own `orders` subgraph, and Apollo Gateway.
import { spawn, spawnSync } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root: the Go module the facade is built from. */
export const repo = path.resolve(here, '..', '..');
export const artifacts = path.join(here, '..', 'artifacts');

// Apollo Gateway otherwise starts an OpenTelemetry exporter to Apollo's cloud and probes
// cloud metadata addresses (AWS, GCP, Azure) when it is built. Nothing may leave the
// machine, so it is off before any gateway exists, and no Apollo key may switch on usage
// reporting.
process.env.APOLLO_TELEMETRY_DISABLED = 'true';
for (const k of ['APOLLO_KEY', 'APOLLO_GRAPH_REF', 'APOLLO_SCHEMA_REPORTING']) delete process.env[k];

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * Watches every TCP connection this process opens; `offHost` lists each one whose address
 * is not loopback (the suite fails on any). Every URL here is an IP address, so any host
 * name lookup is listed too.
 */
export function watchConnections() {
  const offHost = [];
  const onSocket = ({ socket }) => {
    socket.on('lookup', (err, address, family, host) => offHost.push(`DNS lookup of ${host}`));
    socket.on('connectionAttempt', (ip, port) => {
      if (!LOOPBACK.test(ip)) offHost.push(`${ip}:${port}`);
    });
    socket.on('connect', () => {
      if (socket.remoteAddress && !LOOPBACK.test(socket.remoteAddress)) offHost.push(`${socket.remoteAddress}:${socket.remotePort} (connected)`);
    });
  };
  diagnostics.subscribe('net.client.socket', onSocket);
  return { offHost, stop: () => diagnostics.unsubscribe('net.client.socket', onSocket) };
}

/**
 * An HTTP proxy that forwards every request to target (a base URL whose path is prefixed)
 * and records it: { method, url, body, status }. `reset()` empties the record.
 */
export async function startCountingProxy(target) {
  const base = new URL(target);
  const prefix = base.pathname.replace(/\/$/, '');
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const record = { method: req.method, url: req.url, body: body.toString('utf8'), status: 0 };
      requests.push(record);
      const headers = { ...req.headers, host: base.host };
      delete headers.connection;
      const upstream = http.request(
        { host: base.hostname, port: base.port, method: req.method, path: prefix + req.url, headers },
        (up) => {
          record.status = up.statusCode;
          res.writeHead(up.statusCode, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', (err) => {
        record.status = 502;
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`proxy: ${err.message}`);
      });
      upstream.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reset: () => requests.splice(0),
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * What a Kajabi call is, by method and path: 'token', 'customer' (GET one by id),
 * 'customers' (a list), 'customer-offers', 'contact', 'sites', 'site', 'products', 'product',
 * 'offers', 'offer'; anything else is 'other <path>'.
 */
export function kajabiKind({ method, url }) {
  const p = new URL(url, 'http://x').pathname;
  if (method === 'POST' && p === '/v1/oauth/token') return 'token';
  let m;
  if ((m = p.match(/^\/v1\/customers\/[^/]+\/relationships\/offers$/))) return 'customer-offers';
  if ((m = p.match(/^\/v1\/(customers|contacts|sites|products|offers)(\/[^/]+)?$/))) {
    if (!m[2]) return m[1];
    return { customers: 'customer', contacts: 'contact', sites: 'site', products: 'product', offers: 'offer' }[m[1]];
  }
  return `other ${method} ${p}`;
}

/**
 * Builds the facade into a temporary directory and starts it against the Kajabi at
 * kajabiBaseURL with the sandbox's client credentials (without kajabiBaseURL: on its own
 * sandbox), on a free loopback port, with env's settings on top. CACHE_TTL=0: nothing is
 * shared between requests, so each request's Kajabi calls stand on their own.
 * Resolves with { url, stop }; its log goes to artifacts/<logName>.
 */
export async function startFacade({ kajabiBaseURL, env: settings = {}, logName, timeoutMs = 60_000 }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facade-federation-'));
  const bin = path.join(dir, 'facade');
  const build = spawnSync('go', ['build', '-o', bin, '.'], { cwd: repo, stdio: 'inherit', timeout: 300_000 });
  if (build.status !== 0) throw new Error(`go build failed (${build.error?.message ?? `exit ${build.status}`})`);

  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('KAJABI_') || k.startsWith('SANDBOX_')) delete env[k];
  }
  Object.assign(env, {
    LISTEN_ADDR: '127.0.0.1:0',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    CACHE_TTL: '0',
  });
  if (kajabiBaseURL) {
    Object.assign(env, {
      KAJABI_BASE_URL: kajabiBaseURL,
      KAJABI_CLIENT_ID: 'sandbox-client-id',
      KAJABI_CLIENT_SECRET: 'sandbox-client-secret',
    });
  }
  Object.assign(env, settings);
  fs.mkdirSync(artifacts, { recursive: true });
  const child = spawn(bin, [], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
  // If this process dies without its after() hooks, the facade goes with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const log = fs.createWriteStream(path.join(artifacts, logName));
  const lines = readline.createInterface({ input: child.stderr });

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await new Promise((resolve) => log.end(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the second facade was not ready within ${timeoutMs / 1000}s (see artifacts/${logName})`)), timeoutMs);
      child.once('exit', (status, signal) => {
        clearTimeout(timer);
        reject(new Error(`the second facade exited (${signal ?? status}) before it was ready (see artifacts/${logName})`));
      });
      lines.on('line', (line) => {
        log.write(line + '\n');
        try {
          const entry = JSON.parse(line);
          // "GraphiQL ready; GraphQL at /graphql" on the sandbox, another wording without
          // GraphiQL: the line that says ready and where.
          if (entry.addr && /\bready\b/i.test(entry.message ?? '')) {
            clearTimeout(timer);
            resolve(entry.addr);
          }
        } catch {
          // not a JSON line: kept in the log only
        }
      });
    });
    return { url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Serves a subgraph built with @apollo/subgraph on a free loopback port: { url, stop }. */
export async function startSubgraph(typeDefs, resolvers) {
  const server = new ApolloServer({
    schema: buildSubgraphSchema({ typeDefs, resolvers }),
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginInlineTraceDisabled()],
  });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return { url, stop: () => server.stop() };
}

/** Serves a static supergraph through Apollo Gateway on a free loopback port: { url, stop }. */
export async function startGateway(supergraphSdl) {
  const gateway = new ApolloGateway({ supergraphSdl });
  const server = new ApolloServer({ gateway, plugins: [ApolloServerPluginLandingPageDisabled()] });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return { url, stop: () => server.stop() };
}
