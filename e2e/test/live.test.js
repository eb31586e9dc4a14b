// customerActivity with real subscription clients: graphql-ws's client and Apollo Client's
// GraphQLWsLink over the graphql-transport-ws subprotocol. The test POSTs Kajabi webhook
// deliveries to the service and checks what the clients receive against the sandbox's REST API.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ApolloClient, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { graphqlWsURL, postWebhook, purchaseDelivery, restGet } from './service.js';

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
const WAIT_MS = 200;
const MAX_WAITS = 50;

/** What a subscription received, read one event at a time with a bounded wait. */
class Inbox {
  #events = [];
  #waiters = [];
  error;
  push(event) {
    this.#events.push(event);
    this.#waiters.splice(0).forEach((wake) => wake());
  }
  fail(err) {
    this.error = err;
    this.#waiters.splice(0).forEach((wake) => wake());
  }
  /** The next event, or undefined when none came within ms. */
  async next(ms) {
    if (!this.#events.length && !this.error) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.#waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    if (this.error) throw new Error(`subscription failed: ${JSON.stringify(this.error)}`);
    return this.#events.shift();
  }
}

let seq = 0;
const freshId = (what) => `e2e-${what}-${process.pid}-${Date.now()}-${seq++}`;

/**
 * A subscription is only known to be listening once an event reaches it, so this posts
 * warm-up purchases with fresh ids until one arrives (bounded), then drops what else came.
 */
async function warmUp(inbox, customerId) {
  for (let i = 0; i < MAX_WAITS; i++) {
    assert.equal(await postWebhook(purchaseDelivery(freshId('warm'), customerId)), 202, 'warm-up delivery');
    if (await inbox.next(WAIT_MS)) break;
    assert.notEqual(i, MAX_WAITS - 1, `no event reached the subscription after ${MAX_WAITS} deliveries`);
  }
  const marker = freshId('settled');
  assert.equal(await postWebhook(purchaseDelivery(marker, customerId)), 202, 'marker delivery');
  await eventIdsUntil(inbox, marker);
}

/** The event ids received up to and including marker (bounded). */
async function eventIdsUntil(inbox, marker) {
  const ids = [];
  for (let i = 0; i < MAX_WAITS; i++) {
    const ev = await inbox.next(WAIT_MS);
    if (!ev) continue;
    ids.push(ev.eventId);
    if (ev.eventId === marker) return ids;
  }
  assert.fail(`event ${marker} did not arrive; got ${JSON.stringify(ids)}`);
}

/** The event with id eventId (others, such as late warm-ups, are skipped; bounded). */
async function eventWithId(inbox, eventId) {
  for (let i = 0; i < MAX_WAITS; i++) {
    const ev = await inbox.next(WAIT_MS);
    if (ev?.eventId === eventId) return ev;
  }
  assert.fail(`event ${eventId} did not arrive`);
}

function graphqlWsClient() {
  return createClient({ url: graphqlWsURL, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
}

/** customerActivity through graphql-ws's own client, collected in an Inbox. */
function subscribeGraphqlWs(client, variables) {
  const inbox = new Inbox();
  const stop = client.subscribe({ query: ACTIVITY, variables }, {
    next: (result) => (result.errors ? inbox.fail(result.errors) : inbox.push(result.data.customerActivity)),
    error: (err) => inbox.fail(err instanceof Error ? err.message : err),
    complete: () => {},
  });
  return { inbox, stop };
}

describe('customerActivity over graphql-ws', () => {
  let customer; // a real sandbox customer of site 101, as REST has it
  before(async () => {
    const [c] = (await restGet('/v1/customers?filter[site_id]=101&page[size]=1')).data;
    customer = { id: c.id, name: c.attributes.name, email: c.attributes.email, netRevenue: c.attributes.net_revenue };
  });

  /** The purchase event the clients must receive for delivery eventId of customer. */
  const wantPurchase = (eventId) => ({
    __typename: 'PurchaseEvent',
    eventId,
    event: 'PURCHASE',
    siteId: '101',
    purchase: { id: '9001', amountInCents: 1000, currency: 'USD' },
    // read from Kajabi, not the delivery's embedded copy (name "A", a@example.com)
    customer,
  });
  const withoutReceivedAt = ({ receivedAt, ...rest }) => {
    assert.ok(!Number.isNaN(Date.parse(receivedAt)), `receivedAt: got ${receivedAt}, want an RFC 3339 time`);
    return rest;
  };
  // Apollo's results are frozen, and it asks for __typename on every object.
  const plain = (v) => JSON.parse(JSON.stringify(v));
  const withTypenames = (ev) => ({
    ...ev,
    purchase: { __typename: 'Purchase', ...ev.purchase },
    customer: { __typename: 'Customer', ...ev.customer },
  });

  test('the graphql-ws client receives a purchase with its customer resolved', async (t) => {
    const client = graphqlWsClient();
    t.after(() => client.dispose());
    const { inbox, stop } = subscribeGraphqlWs(client, { siteId: '101' });
    t.after(stop);
    await warmUp(inbox, customer.id);

    const eventId = freshId('purchase');
    assert.equal(await postWebhook(purchaseDelivery(eventId, customer.id)), 202);
    const got = await eventWithId(inbox, eventId);
    assert.deepEqual(withoutReceivedAt(got), wantPurchase(eventId));
  });

  test('Apollo Client with GraphQLWsLink receives a purchase with its customer resolved', async (t) => {
    const wsClient = graphqlWsClient();
    t.after(() => wsClient.dispose());
    const apollo = new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache() });
    t.after(() => apollo.stop());
    const inbox = new Inbox();
    const sub = apollo.subscribe({ query: gql(ACTIVITY), variables: { siteId: '101' } }).subscribe({
      next: (result) => (result.error ? inbox.fail(result.error.message) : inbox.push(plain(result.data.customerActivity))),
      error: (err) => inbox.fail(err.message),
    });
    t.after(() => sub.unsubscribe());
    await warmUp(inbox, customer.id);

    const eventId = freshId('apollo');
    assert.equal(await postWebhook(purchaseDelivery(eventId, customer.id)), 202);
    const got = await eventWithId(inbox, eventId);
    assert.deepEqual(withoutReceivedAt(got), withTypenames(wantPurchase(eventId)));
    // The buyer is normalised into Apollo's cache like any other Customer.
    const cached = apollo.cache.extract()[`Customer:${customer.id}`];
    assert.equal(cached?.email, customer.email, `cached Customer:${customer.id}.email`);
  });

  test('a delivery retried with the same event id arrives once', async (t) => {
    const client = graphqlWsClient();
    t.after(() => client.dispose());
    const { inbox, stop } = subscribeGraphqlWs(client, { siteId: '101' });
    t.after(stop);
    await warmUp(inbox, customer.id);

    const dup = freshId('dup');
    for (let i = 0; i < 3; i++) {
      assert.equal(await postWebhook(purchaseDelivery(dup, customer.id)), 202, `delivery ${i}: a retry is acknowledged`);
    }
    // Deliveries are handed on in order, so a second copy would arrive before the marker.
    const marker = freshId('marker');
    assert.equal(await postWebhook(purchaseDelivery(marker, customer.id)), 202);
    const ids = await eventIdsUntil(inbox, marker);
    assert.equal(ids.filter((id) => id === dup).length, 1, `event ${dup} in ${JSON.stringify(ids)}: got it that many times, want 1`);
  });
});
