// customerActivity with real subscription clients: graphql-ws's client and Apollo Client's
// GraphQLWsLink over the graphql-transport-ws subprotocol. The test POSTs Kajabi webhook
// deliveries to the service and checks what the clients receive against the sandbox's REST API.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ApolloClient, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Inbox, eventIdsUntil, eventWithId, freshId, warmUp } from './inbox.js';
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
    await warmUp(inbox, (id) => postWebhook(purchaseDelivery(id, customer.id)));

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
    await warmUp(inbox, (id) => postWebhook(purchaseDelivery(id, customer.id)));

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
    await warmUp(inbox, (id) => postWebhook(purchaseDelivery(id, customer.id)));

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
