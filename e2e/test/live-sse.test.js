// customerActivity over GraphQL over SSE with a real client: graphql-sse's createClient in
// its "distinct connections" mode (each subscription one POST that accepts
// text/event-stream), the mode the service's SSE transport speaks. The test POSTs Kajabi
// webhook deliveries to the service and checks what the client receives against the
// sandbox's REST API; a query sent this way, and in service mode a subscription without an
// API key, are refused as the client sees it. (CSRF cannot be tried from this client: it
// always sends application/json, which browsers preflight, so the edge lets it pass.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'graphql-sse';
import { startFacade } from './federation-stack.js';
import { Inbox, eventWithId, freshId, warmUp } from './inbox.js';
import { graphqlURL, postWebhook, purchaseDelivery, restGet } from './service.js';

const ACTIVITY = `
  subscription Purchases($siteId: ID) {
    customerActivity(siteId: $siteId, events: [PURCHASE]) {
      __typename eventId event siteId receivedAt
      ... on PurchaseEvent {
        purchase { id amountInCents currency }
        customer { id name email netRevenue }
      }
    }
  }
`;

// The sandbox's fixed development secret (server.go sandboxWebhookSecret).
const WEBHOOK_PATH = '/webhooks/kajabi/sandbox-development-webhook-secret-0123456789';

/** A graphql-sse client on url; no retries, so a refusal reaches the sink as it came. */
function sseClient(url, headers = {}) {
  return createClient({ url, singleConnection: false, retryAttempts: 0, headers });
}

/**
 * The results of one operation through client, collected in an Inbox: data of every
 * result, the result itself when it carries errors; done resolves when it ends.
 */
function subscribe(client, request) {
  const inbox = new Inbox();
  const results = [];
  let stop;
  const done = new Promise((resolve) => {
    stop = client.subscribe(request, {
      next: (result) => {
        results.push(result);
        if (result.errors) inbox.fail(result.errors);
        else inbox.push(result.data.customerActivity);
      },
      error: (err) => { inbox.fail(err.message); resolve({ error: err }); },
      complete: () => resolve({ completed: true }),
    });
  });
  return { inbox, results, done, stop };
}

/** Resolves with what done resolved with, or fails after ms: an ending must come. */
function ended(done, ms = 10_000) {
  let timer;
  return Promise.race([
    done,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no end within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

const withoutReceivedAt = ({ receivedAt, ...rest }) => {
  assert.ok(!Number.isNaN(Date.parse(receivedAt)), `receivedAt: got ${receivedAt}, want an RFC 3339 time`);
  return rest;
};

/** The purchase event a client must receive for delivery eventId of customer. */
const wantPurchase = (eventId, customer) => ({
  __typename: 'PurchaseEvent',
  eventId,
  event: 'PURCHASE',
  siteId: '101',
  purchase: { id: '9001', amountInCents: 1000, currency: 'USD' },
  // read from Kajabi, not the delivery's embedded copy (name "A", a@example.com)
  customer,
});

const asCustomer = (c) => ({ id: c.id, name: c.attributes.name, email: c.attributes.email, netRevenue: c.attributes.net_revenue });

describe('customerActivity over SSE with graphql-sse', () => {
  let customer; // a real sandbox customer of site 101, as REST has it
  before(async () => {
    const [c] = (await restGet('/v1/customers?filter[site_id]=101&page[size]=1')).data;
    customer = asCustomer(c);
  });

  test('the graphql-sse client receives a purchase with its customer resolved', async (t) => {
    const client = sseClient(graphqlURL);
    t.after(() => client.dispose());
    const { inbox, stop } = subscribe(client, { query: ACTIVITY, variables: { siteId: '101' } });
    t.after(stop);
    await warmUp(inbox, (id) => postWebhook(purchaseDelivery(id, customer.id)));

    const eventId = freshId('sse');
    assert.equal(await postWebhook(purchaseDelivery(eventId, customer.id)), 202);
    const got = await eventWithId(inbox, eventId);
    assert.deepEqual(withoutReceivedAt(got), wantPurchase(eventId, customer));
  });

  test('a query sent over SSE is refused with SUBSCRIPTIONS_ONLY and the stream completes', async (t) => {
    const client = sseClient(graphqlURL);
    t.after(() => client.dispose());
    const { results, done } = subscribe(client, { query: '{ __typename }' });
    assert.deepEqual(await ended(done), { completed: true });
    assert.equal(results.length, 1, `results: ${JSON.stringify(results)}`);
    const [{ data, errors }] = results;
    assert.equal(data, null);
    assert.deepEqual(errors.map((e) => e.extensions?.code), ['SUBSCRIPTIONS_ONLY']);
  });
});

describe('customerActivity over SSE in service mode (API keys)', () => {
  const KEY = 'e2e-sse-key-0123456789abcdef';
  let facade, customer;
  before(async () => {
    // A second instance on its own sandbox that admits only callers with KEY.
    facade = await startFacade({ logName: 'service-sse-service-mode.log', env: { AUTH_MODE: 'service', API_KEYS: KEY } });
    // Its sandbox's REST API asks for the key too, on top of the sandbox's own OAuth token.
    const tokenRes = await fetch(new URL('/sandbox/v1/oauth/token', facade.url), {
      method: 'POST',
      headers: { 'x-api-key': KEY },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'sandbox-client-id', client_secret: 'sandbox-client-secret' }),
    });
    assert.equal(tokenRes.status, 200, `sandbox token: got ${tokenRes.status}, want 200`);
    const { access_token: token } = await tokenRes.json();
    const res = await fetch(new URL('/sandbox/v1/customers?filter[site_id]=101&page[size]=1', facade.url), {
      headers: { 'x-api-key': KEY, authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200, `sandbox customers: got ${res.status}, want 200`);
    customer = asCustomer((await res.json()).data[0]);
  });
  after(() => facade?.stop());

  test('without an API key the subscription is refused with 401 before it streams', async (t) => {
    const client = sseClient(new URL('/graphql', facade.url).href);
    t.after(() => client.dispose());
    const { results, done } = subscribe(client, { query: ACTIVITY, variables: { siteId: '101' } });
    const { error } = await ended(done);
    assert.ok(error, 'the client reports an error');
    assert.equal(error.name, 'NetworkError', error.message);
    assert.equal(error.response?.status, 401, error.message);
    const body = await error.response.json();
    assert.deepEqual(body.errors.map((e) => e.extensions?.code), ['UNAUTHENTICATED']);
    assert.deepEqual(results, [], 'nothing streamed');
  });

  test('with its API key the subscription receives a purchase', async (t) => {
    const client = sseClient(new URL('/graphql', facade.url).href, { 'x-api-key': KEY });
    t.after(() => client.dispose());
    const { inbox, stop } = subscribe(client, { query: ACTIVITY, variables: { siteId: '101' } });
    t.after(stop);
    const webhook = new URL(WEBHOOK_PATH, facade.url).href;
    await warmUp(inbox, (id) => postWebhook(purchaseDelivery(id, customer.id), webhook));

    const eventId = freshId('sse-key');
    assert.equal(await postWebhook(purchaseDelivery(eventId, customer.id), webhook), 202);
    const got = await eventWithId(inbox, eventId);
    assert.deepEqual(withoutReceivedAt(got), wantPurchase(eventId, customer));
  });
});
