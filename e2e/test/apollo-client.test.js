// Apollo Client (core, in Node) against the running service: variables, Relay paging with
// fetchMore and relayStylePagination(), and cache normalisation, checked against the
// sandbox's REST API.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { firstValueFrom } from 'rxjs';
import { filter as where, timeout } from 'rxjs/operators';
import { graphqlURL, restCustomers } from './service.js';

// 200 sandbox customers of site 101 (the sandbox account has two, and Kajabi lists one site
// at a time), paged 35 at a time: six pages, most of them starting part-way through a
// Kajabi page, and a short last page.
const FILTER = { siteId: '101', subscribed: true, netRevenueGreaterThan: '500' };
const REST_FILTER = { site_id: '101', subscribed: 'true', net_revenue_greater_than: '500' };
const SORT = { field: 'NAME', direction: 'ASC' };
const REST_SORT = 'name';
const PAGE = 35;

const CUSTOMERS = gql`
  query FilteredCustomers($filter: CustomerFilter, $sort: CustomerSort, $first: Int, $after: String) {
    customers(filter: $filter, sort: $sort, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id name email netRevenue } }
    }
  }
`;

/** A client as a frontend would make it, with a fetch that records what came back. */
function newClient() {
  const responses = [];
  const client = new ApolloClient({
    link: new HttpLink({
      uri: graphqlURL,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        responses.push({ status: res.status, contentType: res.headers.get('content-type'), accept: new Headers(init.headers).get('accept') });
        return res;
      },
    }),
    cache: new InMemoryCache({
      typePolicies: {
        Query: {
          fields: {
            // Cursor pages of one filter and sort merge into one list; `page` (numbered
            // pages) keeps its own entries.
            customers: relayStylePagination(['filter', 'sort', 'page']),
          },
        },
      },
    }),
  });
  return { client, responses };
}

describe('Apollo Client', () => {
  let expected; // the sandbox's customers for FILTER, in SORT order, from REST
  before(async () => {
    expected = await restCustomers(REST_FILTER, REST_SORT);
    assert.ok(expected.length > 4 * PAGE, `the filter should span several pages, has ${expected.length}`);
  });

  test('queries customers with variables', async () => {
    const { client, responses } = newClient();
    const { data } = await client.query({ query: CUSTOMERS, variables: { filter: FILTER, sort: SORT, first: 5 } });
    assert.equal(data.customers.totalCount, expected.length);
    assert.deepEqual(
      data.customers.edges.map((e) => ({ ...e.node, __typename: undefined })),
      expected.slice(0, 5).map((c) => ({ ...c, __typename: undefined })),
    );
    assert.equal(data.customers.edges[0].node.__typename, 'Customer');
    assert.equal(data.customers.pageInfo.hasNextPage, true);
    // Apollo Client 4 asks for the GraphQL-over-HTTP media type first, and gets it.
    assert.equal(responses.length, 1);
    assert.match(responses[0].accept, /^application\/graphql-response\+json/);
    assert.equal(responses[0].status, 200);
    assert.match(responses[0].contentType, /^application\/graphql-response\+json/);
  });

  test('pages through a filter with fetchMore and relayStylePagination', async () => {
    const { client, responses } = newClient();
    const variables = { filter: FILTER, sort: SORT, first: PAGE };
    const watch = client.watchQuery({ query: CUSTOMERS, variables });
    const seen = [];
    const sub = watch.subscribe({ next: (r) => seen.push(r) });
    try {
      // What a component sees: the watcher's next complete result holding `n` edges.
      const merged = (n) => firstValueFrom(watch.pipe(
        where((r) => !r.loading && r.dataState === 'complete' && r.data.customers.edges.length === n),
        timeout(10_000),
      ));
      let { data } = await merged(Math.min(PAGE, expected.length));
      const pageSizes = [data.customers.edges.length];
      const expectedPages = Math.ceil(expected.length / PAGE);
      for (let i = 0; data.customers.pageInfo.hasNextPage; i++) {
        assert.ok(i < expectedPages + 2, 'paging did not end');
        const more = await watch.fetchMore({ variables: { after: data.customers.pageInfo.endCursor } });
        pageSizes.push(more.data.customers.edges.length);
        ({ data } = await merged(Math.min(expected.length, PAGE * pageSizes.length)));
      }

      assert.equal(pageSizes.length, expectedPages, `pages fetched (sizes ${pageSizes})`);
      assert.ok(pageSizes.slice(0, -1).every((n) => n === PAGE), `every page but the last is full: ${pageSizes}`);
      const list = data.customers.edges.map((e) => e.node);
      const ids = list.map((n) => n.id);
      assert.equal(new Set(ids).size, ids.length, 'no customer twice');
      // Same customers, same order, same values as the sandbox's REST API: no gaps.
      assert.deepEqual(ids, expected.map((c) => c.id));
      assert.deepEqual(list.map(({ __typename, ...c }) => c), expected);
      assert.ok(list.every((n) => n.__typename === 'Customer'));
      assert.equal(data.customers.totalCount, expected.length);
      assert.equal(data.customers.pageInfo.hasNextPage, false);
      assert.equal(data.customers.pageInfo.hasPreviousPage, false, 'the merged list starts at the beginning');
      assert.ok(responses.every((r) => r.status === 200), `statuses ${responses.map((r) => r.status)}`);
      assert.equal(responses.length, expectedPages, 'one request per page, nothing refetched');

      // Normalised: one Customer:<id> entity per customer, with its __typename, and the
      // list holds references to them.
      const store = client.cache.extract();
      const entities = Object.keys(store).filter((k) => k.startsWith('Customer:'));
      assert.equal(entities.length, expected.length);
      for (const c of expected) {
        const e = store[`Customer:${c.id}`];
        assert.ok(e, `Customer:${c.id} is in the cache`);
        assert.equal(e.__typename, 'Customer');
        assert.equal(e.id, c.id);
        assert.equal(e.email, c.email);
      }
      const listKeys = Object.keys(store.ROOT_QUERY).filter((k) => k.startsWith('customers'));
      assert.equal(listKeys.length, 1, `one cached list for the filter and sort: ${listKeys}`);
      const refs = store.ROOT_QUERY[listKeys[0]].edges.map((e) => e.node.__ref);
      assert.deepEqual(refs, expected.map((c) => `Customer:${c.id}`));
      assert.equal(client.cache.identify({ __typename: 'Customer', id: expected[0].id }), `Customer:${expected[0].id}`);

      // Another query touching the same customers adds fields to the same entities.
      const PAGED = gql`
        query NumberedPage($filter: CustomerFilter, $sort: CustomerSort) {
          customers(filter: $filter, sort: $sort, page: { number: 2, size: 10 }) { nodes { id signInCount } }
        }
      `;
      const { data: paged } = await client.query({ query: PAGED, variables: { filter: FILTER, sort: SORT } });
      assert.deepEqual(paged.customers.nodes.map((n) => n.id), expected.slice(10, 20).map((c) => c.id));
      assert.equal(Object.keys(client.cache.extract()).filter((k) => k.startsWith('Customer:')).length, expected.length,
        'no new entities for customers already cached');
      const FIELDS = gql`fragment Both on Customer { id name email signInCount }`;
      const both = client.readFragment({ id: `Customer:${expected[12].id}`, fragment: FIELDS });
      assert.equal(both.name, expected[12].name);
      assert.equal(both.signInCount, paged.customers.nodes[2].signInCount);

      // A write to one entity shows in the merged list, which only references it.
      client.writeFragment({
        id: `Customer:${expected[40].id}`,
        fragment: gql`fragment Rename on Customer { name }`,
        data: { __typename: 'Customer', name: 'Renamed in the cache' },
      });
      const after = client.readQuery({ query: CUSTOMERS, variables });
      assert.equal(after.customers.edges[40].node.name, 'Renamed in the cache');
      assert.equal(after.customers.edges.length, expected.length);
      assert.ok(seen.length >= expectedPages, 'the watcher saw every merge');
    } finally {
      sub.unsubscribe();
      client.stop();
    }
  });

  test('surfaces coded errors: execution (200) and request errors (400)', async () => {
    const { client, responses } = newClient();
    // An argument the resolver refuses: executed, data null, 200.
    await assert.rejects(
      client.query({ query: CUSTOMERS, variables: { first: 0 } }),
      (err) => {
        assert.ok(CombinedGraphQLErrors.is(err), `got ${err}`);
        assert.equal(err.errors[0].extensions.code, 'BAD_USER_INPUT');
        assert.equal(err.errors[0].extensions.field, 'first');
        return true;
      },
    );
    // A variable of the wrong type: refused before execution, 400 under
    // application/graphql-response+json, and Apollo still reads the errors from the body.
    await assert.rejects(
      client.query({ query: CUSTOMERS, variables: { sort: { field: 'SHOE_SIZE' } } }),
      (err) => {
        assert.ok(CombinedGraphQLErrors.is(err), `got ${err}`);
        assert.equal(err.errors[0].extensions.code, 'BAD_USER_INPUT');
        assert.equal(err.data, undefined);
        return true;
      },
    );
    assert.deepEqual(responses.map((r) => r.status), [200, 400]);
    client.stop();
  });
});
