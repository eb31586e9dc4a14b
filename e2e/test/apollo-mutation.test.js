// Apollo Client (core, in Node) writes through the service: grantOffers changes a
// customer's offers in Kajabi (the sandbox), and the normalised cache shows the new offers
// without a refetch, as a frontend's list would re-render from the mutation's answer alone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { graphqlURL, restGet } from './service.js';

const CUSTOMER = gql`
  query CustomerOffers($id: ID!) { customer(id: $id) { id name offers { id title } } }
`;
const GRANT = gql`
  mutation Grant($customerId: ID!, $offerIds: [ID!]!) {
    grantOffers(customerId: $customerId, offerIds: $offerIds) { id offers { id title } }
  }
`;
const REVOKE = gql`
  mutation Revoke($customerId: ID!, $offerIds: [ID!]!) {
    revokeOffers(customerId: $customerId, offerIds: $offerIds) { id offers { id } }
  }
`;

/** The ids Kajabi lists as the customer's offers, read from the sandbox's REST API. */
async function restOfferIds(customerId) {
  const doc = await restGet(`/v1/customers/${customerId}/relationships/offers`);
  return doc.data.map((o) => o.id).sort();
}

describe('Apollo Client mutations', () => {
  test('a granted offer shows in the cache without a refetch', async () => {
    let requests = 0;
    const client = new ApolloClient({
      link: new HttpLink({ uri: graphqlURL, fetch: (input, init) => { requests++; return fetch(input, init); } }),
      cache: new InMemoryCache(),
    });
    const customers = (await restGet('/v1/customers?filter[site_id]=101&page[size]=1')).data;
    const customerId = customers[0].id;
    const siteOffers = (await restGet('/v1/offers?filter[site_id]=101&page[size]=100')).data.map((o) => o.id);
    const held = await restOfferIds(customerId);
    const grant = siteOffers.find((id) => !held.includes(id));
    assert.ok(grant, `site 101 has an offer customer ${customerId} does not hold`);

    const { data } = await client.query({ query: CUSTOMER, variables: { id: customerId } });
    assert.deepEqual(data.customer.offers.map((o) => o.id).sort(), held);
    const before = requests;

    const { data: granted, errors } = await client.mutate({ mutation: GRANT, variables: { customerId, offerIds: [grant] } });
    assert.equal(errors, undefined);
    assert.ok(granted.grantOffers.offers.some((o) => o.id === grant), 'the mutation answers with the granted offer');
    assert.equal(requests, before + 1, 'one request: the mutation');

    // The cached query, read without the network, holds the granted offer: the mutation's
    // answer normalised into the same Customer entity.
    const cached = client.readQuery({ query: CUSTOMER, variables: { id: customerId } });
    assert.ok(cached.customer.offers.some((o) => o.id === grant), 'the cache shows the granted offer');
    assert.equal(requests, before + 1, 'no refetch');
    assert.deepEqual(await restOfferIds(customerId), [...held, grant].sort(), 'Kajabi holds the grant');

    await client.mutate({ mutation: REVOKE, variables: { customerId, offerIds: [grant] } });
    assert.deepEqual(await restOfferIds(customerId), held, 'revoked again');
  });
});
