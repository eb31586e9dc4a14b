// Relay: relay-compiler compiles the small app in relay/ against the service's schema, and
// relay-runtime (no browser) runs its operations against the running service: forward and
// backward paging through a filtered, sorted connection with @connection, and refetching a
// customer by its global id, checked against the sandbox's REST API. Then Apollo Client
// receives a @defer'red relation in increments.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { Environment, Network, RecordSource, Store, fetchQuery, createOperationDescriptor, getSelector } from 'relay-runtime';
import { graphqlURL, restCustomers, restGet } from './service.js';

const relayDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'relay');
const FILTER = { siteId: '101', subscribed: true, netRevenueGreaterThan: '500' };
const REST_FILTER = { site_id: '101', subscribed: 'true', net_revenue_greater_than: '500' };
const SORT = { field: 'NAME', direction: 'ASC' };
const PAGE = 35;

/** relay-compiler reads SDL, but not Federation's `extend schema @link(...)`, which a
 * client never needs: it compiles against schema.graphqls without that one statement. */
function compile() {
  const sdl = fs.readFileSync(path.join(relayDir, '..', '..', 'schema.graphqls'), 'utf8')
    .replace(/^extend schema\s*\n\s*@link\([^)]*\)\n/m, '');
  assert.doesNotMatch(sdl, /extend schema/);
  fs.mkdirSync(path.join(relayDir, 'build'), { recursive: true });
  fs.mkdirSync(path.join(relayDir, '__generated__'), { recursive: true });
  fs.writeFileSync(path.join(relayDir, 'build', 'schema.graphql'), sdl);
  // The artifacts are CommonJS (require('./x.graphql')) inside this ES-module package.
  fs.writeFileSync(path.join(relayDir, '__generated__', 'package.json'), '{"type":"commonjs"}\n');
  const bin = path.join(relayDir, '..', 'node_modules', '.bin', 'relay-compiler');
  const out = spawnSync(bin, [], { cwd: relayDir, encoding: 'utf8', timeout: 120_000 });
  return { out };
}

async function artifact(name) {
  return (await import(pathToFileURL(path.join(relayDir, '__generated__', `${name}.graphql.js`)).href)).default;
}

/** A Relay environment on the service; `seen` collects each raw response, as sent. */
function environment(seen = []) {
  return new Environment({
    network: Network.create(async (params, variables) => {
      const res = await fetch(graphqlURL, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query: params.text, variables }),
      });
      const body = await res.json();
      seen.push(body);
      return body;
    }),
    store: new Store(new RecordSource()),
    // Kajabi ids repeat across types; the global id does not.
    getDataID: (record) => record.nodeId,
  });
}

describe('Relay', () => {
  let a; // compiled artifacts
  before(async () => {
    const { out } = compile();
    assert.equal(out.status, 0, `relay-compiler failed:\n${out.stdout}\n${out.stderr}`);
    a = {
      pagination: await artifact('appCustomerListPaginationQuery'),
      list: await artifact('app_customerList'),
      customer: await artifact('app_customer'),
      refetch: await artifact('appCustomerRefetchQuery'),
      node: await artifact('appNodeQuery'),
      backward: await artifact('appCustomersBackwardQuery'),
    };
  });

  test('pages forward through a filtered connection with @connection', async () => {
    const expected = await restCustomers(REST_FILTER, 'name');
    const env = environment();
    let after = null;
    let list;
    for (let page = 0; page < 50; page++) {
      const variables = { filter: FILTER, sort: SORT, first: PAGE, after };
      await fetchQuery(env, a.pagination, variables).toPromise();
      const op = createOperationDescriptor(a.pagination, variables);
      list = env.lookup(getSelector(a.list, env.lookup(op.fragment).data)).data;
      const info = list.customers.pageInfo;
      if (!info.hasNextPage) break;
      after = info.endCursor;
    }
    // Relay's connection handler merged every page into one list.
    const got = list.customers.edges.map((e) => {
      const c = env.lookup(getSelector(a.customer, e.node)).data;
      return { id: c.id, name: c.name, email: c.email, netRevenue: c.netRevenue };
    });
    assert.equal(list.customers.totalCount, expected.length);
    assert.deepEqual(got, expected);
  });

  test('pages backward through a filtered connection with @connection', async () => {
    const expected = await restCustomers(REST_FILTER, 'name');
    const seen = [];
    const env = environment(seen);
    let before = null;
    let data;
    for (let page = 0; page < 50; page++) {
      data = await fetchQuery(env, a.backward, { filter: FILTER, sort: SORT, last: PAGE, before }).toPromise();
      const info = data.customers.pageInfo;
      if (!info.hasPreviousPage) break;
      before = info.startCursor;
    }
    const pages = seen.map((r) => r.data.customers);
    assert.equal(pages.length, Math.ceil(expected.length / PAGE));
    // Each page, as the service sent it: a full page and an earlier one until the first.
    pages.forEach((p, i) => {
      const last = i === pages.length - 1;
      assert.equal(p.pageInfo.hasPreviousPage, !last, `page ${i} hasPreviousPage`);
      assert.equal(p.edges.length, last ? expected.length - PAGE * i : PAGE, `page ${i} size`);
    });
    // Relay's connection handler prepended every earlier page: the whole list, in order.
    const got = data.customers.edges.map((e) => {
      const c = env.lookup(getSelector(a.customer, e.node)).data;
      return { id: c.id, name: c.name, email: c.email, netRevenue: c.netRevenue };
    });
    assert.equal(data.customers.totalCount, expected.length);
    assert.deepEqual(got, expected);
  });

  test('refetches a customer by its global id', async () => {
    const [first] = await restCustomers(REST_FILTER, 'name');
    const rest = (await restGet(`/v1/customers/${first.id}`)).data;
    const nodeId = Buffer.from(`Customer:${first.id}`).toString('base64');
    const env = environment();
    const data = await fetchQuery(env, a.refetch, { nodeId }).toPromise();
    assert.ok(data.node, `node(id: ${nodeId}) found the customer`);
    const c = env.lookup(getSelector(a.customer, data.node)).data;
    assert.deepEqual({ id: c.id, name: c.name, email: c.email }, { id: rest.id, name: rest.attributes.name, email: rest.attributes.email });

    const viaNode = await fetchQuery(env, a.node, { id: nodeId }).toPromise();
    assert.equal(viaNode.node.__typename, 'Customer');
    assert.equal(viaNode.node.nodeId, nodeId);
    const contactID = rest.relationships.contact.data.id;
    const contact = (await restGet(`/v1/contacts/${contactID}`)).data;
    assert.deepEqual(viaNode.node.contact, {
      id: contactID, nodeId: Buffer.from(`Contact:${contactID}`).toString('base64'), email: contact.attributes.email,
    });
  });
});

describe('Apollo Client with @defer', () => {
  test('receives a deferred relation in increments', async () => {
    const parts = [];
    const client = new ApolloClient({
      link: new HttpLink({
        uri: graphqlURL,
        fetch: async (input, init) => {
          const res = await fetch(input, init);
          parts.push({ accept: new Headers(init.headers).get('accept'), contentType: res.headers.get('content-type'), body: res.clone().text() });
          return res;
        },
      }),
      cache: new InMemoryCache(),
      incrementalHandler: new Defer20220824Handler(),
    });
    const query = gql`
      query Deferred { customers(filter: { siteId: "101" }, first: 3) { nodes { id name ... @defer { contact { id email } } } } }
    `;
    const results = [];
    let sub;
    await new Promise((resolve, reject) => {
      sub = client.watchQuery({ query }).subscribe({
        next: (r) => {
          results.push(r);
          if (r.dataState === 'complete') resolve();
        },
        error: reject,
      });
      setTimeout(() => reject(new Error(`no complete result; got ${JSON.stringify(results)}`)), 20_000);
    });
    assert.match(parts[0].accept, /multipart\/mixed/);
    assert.match(parts[0].contentType, /^multipart\/mixed/);
    // On the wire: the list first, with no contact, then the contacts as increments.
    const body = await parts[0].body;
    sub.unsubscribe();
    const boundary = /boundary="?([^";]+)"?/.exec(parts[0].contentType)[1];
    const payloads = body.split(`--${boundary}`).map((p) => p.split('\r\n\r\n')[1]).filter((p) => p && p.trim()).map((p) => JSON.parse(p));
    assert.ok(payloads.length >= 2, `got ${payloads.length} payloads, want the list and increments`);
    assert.equal(payloads[0].hasNext, true);
    assert.ok(payloads[0].data.customers.nodes.every((n) => !n.contact), 'the first payload has no contacts');
    assert.ok(payloads.slice(1).every((p) => p.incremental?.[0]?.data?.contact), 'each increment carries a contact');
    assert.equal(payloads.at(-1).hasNext, false);
    const done = results.at(-1).data.customers.nodes;
    for (const n of done) {
      const rest = (await restGet(`/v1/customers/${n.id}`)).data;
      const contact = (await restGet(`/v1/contacts/${rest.relationships.contact.data.id}`)).data;
      assert.equal(n.contact.email, contact.attributes.email);
    }
  });
});
