// Shared by the suites: where the service under test is, and ground truth read from the
// sandbox's REST API (mounted at /sandbox/), independently of the GraphQL layer.
import assert from 'node:assert/strict';

const base = process.env.E2E_BASE_URL;
if (!base) {
  throw new Error('E2E_BASE_URL is not set: run the suites with `npm test` (e2e/run.js starts the service)');
}

/** The service's root URL, e.g. http://127.0.0.1:41234/ */
export const baseURL = new URL(base).href;
export const graphqlURL = new URL('/graphql', baseURL).href;

/** Every request a suite makes must stay on this machine. */
export function isLoopback(url) {
  const u = new URL(url);
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
  return ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}
assert.ok(isLoopback(baseURL), `E2E_BASE_URL must be a loopback address, got ${baseURL}`);

async function json(res, what) {
  const text = await res.text();
  assert.equal(res.status, 200, `${what}: status ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

let token;
async function sandboxToken() {
  if (!token) {
    const res = await fetch(new URL('/sandbox/v1/oauth/token', baseURL), {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'sandbox-client-id',
        client_secret: 'sandbox-client-secret',
      }),
    });
    token = (await json(res, 'sandbox token')).access_token;
  }
  return token;
}

/** One JSON:API document from the sandbox's REST API, e.g. restGet('/v1/contacts/42'). */
export async function restGet(pathAndQuery) {
  const url = new URL(`/sandbox${pathAndQuery}`, baseURL);
  const res = await fetch(url, { headers: { authorization: `Bearer ${await sandboxToken()}` } });
  return json(res, `GET ${url}`);
}

/**
 * Every customer the sandbox's REST API returns for a filter and sort, in order, read
 * 100 at a time: [{ id, name, email, netRevenue }].
 * filter: { 'subscribed': 'true', ... } (Kajabi's filter[...] names); sort: e.g. 'name'.
 */
export async function restCustomers(filter, sort) {
  const out = [];
  let total;
  for (let page = 1; page <= 100; page++) {
    const url = new URL('/sandbox/v1/customers', baseURL);
    for (const [k, v] of Object.entries(filter)) url.searchParams.set(`filter[${k}]`, v);
    if (sort) url.searchParams.set('sort', sort);
    url.searchParams.set('page[size]', '100');
    url.searchParams.set('page[number]', String(page));
    const res = await fetch(url, { headers: { authorization: `Bearer ${await sandboxToken()}` } });
    const doc = await json(res, `GET ${url}`);
    total = doc.meta.total_count;
    for (const c of doc.data) {
      out.push({ id: c.id, name: c.attributes.name, email: c.attributes.email, netRevenue: c.attributes.net_revenue });
    }
    if (page >= doc.meta.total_pages) break;
  }
  assert.equal(out.length, total, 'REST pages add up to meta.total_count');
  return out;
}

/** A GraphQL request with plain fetch. */
export async function graphql(query, variables) {
  const res = await fetch(graphqlURL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await json(res, 'graphql');
  assert.equal(body.errors, undefined, `graphql errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** The same endpoint for WebSocket clients (graphql-transport-ws). */
export const graphqlWsURL = graphqlURL.replace(/^http/, 'ws');

// The sandbox's fixed development secret (server.go sandboxWebhookSecret): fixed so that a
// development setup can be scripted, and accepted only on the sandbox.
const webhookURL = new URL('/webhooks/kajabi/sandbox-development-webhook-secret-0123456789', baseURL).href;

/**
 * POSTs a Kajabi webhook delivery to the service (or to url, another instance's receiver),
 * as Kajabi would; resolves with the status.
 */
export async function postWebhook(body, url = webhookURL) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

/**
 * A purchase delivery shaped like the spec's /v1/hooks/purchase_sample answer: the purchase
 * and its customer (customerId of siteId), under Kajabi's event id eventId.
 */
export function purchaseDelivery(eventId, customerId, siteId = '101') {
  const at = '2025-07-31T16:59:27.580Z';
  return {
    id: eventId,
    event: 'purchase',
    payload: [
      {
        id: '9001',
        type: 'purchases',
        attributes: { amount_in_cents: 1000, payment_type: 'single', opt_in: false, currency: 'USD', quantity: 1, created_at: at, updated_at: at },
        relationships: {
          customer: { data: { id: customerId, type: 'customers' } },
          offer: { data: { id: '1', type: 'offers' } },
          products: { data: [] },
        },
      },
      {
        id: customerId,
        type: 'customers',
        attributes: { name: 'A', email: 'a@example.com', net_revenue: '0.0', sign_in_count: 0, created_at: at, updated_at: at },
        relationships: { site: { data: { id: siteId, type: 'sites' } } },
      },
    ],
  };
}
