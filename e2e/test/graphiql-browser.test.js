// GraphiQL in a real browser: Debian's Chromium, headless, driven by playwright-core. Types
// a customers query, runs it, checks the result pane against the sandbox's REST API, runs a
// @defer query and checks its increments land merged in the result pane, runs a
// customerActivity subscription and watches purchases posted as Kajabi webhooks arrive in
// the result pane, opens the docs explorer on CustomerFilter, and checks that no request
// leaves 127.0.0.1 and that the page's strict Content-Security-Policy is never violated.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { MAX_WAITS, WAIT_MS, freshId } from './inbox.js';
import { baseURL, graphql, graphqlWsURL, isLoopback, postWebhook, purchaseDelivery, restCustomers, restGet } from './service.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');

// Typed key by key on one line, so CodeMirror's bracket auto-closing overtypes each closer.
const QUERY = 'query SmithCustomers { customers(filter: { siteId: "101", search: "smith" }, sort: { field: NAME }, first: 5) { totalCount nodes { id name email } } }';

const DEFERRED = 'query DeferredContacts { customers(filter: { siteId: "101" }, sort: { field: NAME }, first: 3) { nodes { id name ... @defer { contact { email } } } } }';

const SUBSCRIPTION = 'subscription LivePurchases { customerActivity(siteId: "101") { __typename eventId event siteId ... on PurchaseEvent { purchase { id amountInCents currency } customer { id name email } } } }';

/** The text of a CodeMirror 5 editor inside `selector` (all of it, not just the lines drawn). */
const editorValue = (page, selector) => page.$eval(`${selector} .CodeMirror`, (el) => el.CodeMirror.getValue());

describe('GraphiQL in Chromium', () => {
  let browser, context, page;
  const requests = []; // every URL the browser asked for
  const offHost = []; // any of them not on loopback (aborted)
  const problems = []; // console errors, page errors, CSP violations

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
    context = await browser.newContext({ viewport: { width: 1400, height: 900 }, serviceWorkers: 'block' });
    // Nothing may leave the machine: note every request, refuse any that is not loopback.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      requests.push(url);
      if (!isLoopback(url)) {
        offHost.push(url);
        return route.abort('blockedbyclient');
      }
      return route.continue();
    });
    page = await context.newPage();
    page.on('console', (msg) => {
      // The bundle names a source map that is not shipped; devtools would fetch it, pages do not.
      if (msg.type() === 'error' || /Content.Security.Policy/i.test(msg.text())) problems.push(`console ${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await page.exposeFunction('reportCSPViolation', (v) => problems.push(`CSP violation: ${v}`));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        window.reportCSPViolation(`${e.violatedDirective} ${e.blockedURI}`));
    });
  });

  after(async () => {
    await browser?.close();
  });

  test('loads from the binary under a strict CSP', async () => {
    const res = await page.goto(baseURL, { waitUntil: 'load' });
    assert.equal(res.status(), 200);
    const csp = res.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'(;|$)/, `CSP: ${csp}`);
    assert.match(csp, /default-src 'self'/);
    // The schema arrives by introspection; the docs button appears with the editor.
    await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 30_000 });
    assert.equal(await page.title(), 'Kajabi GraphQL');
  });

  test('types a customers query, runs it and shows sandbox customers', async () => {
    const expected = (await restCustomers({ site_id: '101', search: 'smith' }, 'name')).slice(0, 5);
    const { customers: { totalCount } } = await graphql('{ customers(filter: { siteId: "101", search: "smith" }) { totalCount } }');
    assert.equal(expected.length, 5);

    await page.click('.graphiql-query-editor .CodeMirror');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type(QUERY, { delay: 5 });
    await page.keyboard.press('Escape'); // close any completion popup
    assert.equal(await editorValue(page, '.graphiql-query-editor'), QUERY);
    // GraphiQL takes the operation name from the document a moment after an edit; run once
    // the tab is named after the new operation, as a person would see it.
    await page.locator('.graphiql-tab-button', { hasText: 'SmithCustomers' }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: /^Prettify query/ }).click();
    const pretty = await editorValue(page, '.graphiql-query-editor');
    assert.ok(pretty.split('\n').length > 5 && pretty.replace(/[\s,]+/g, '') === QUERY.replace(/[\s,]+/g, ''), pretty);

    const answered = page.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('SmithCustomers'));
    await page.click('.graphiql-execute-button');
    const res = await answered;
    assert.equal(res.status(), 200, `${res.request().postData()} answered ${await res.text()}`);
    assert.match(res.headers()['content-type'], /^application\/graphql-response\+json/);

    // What a person sees: the first customers' names and emails in the result pane.
    const pane = page.locator('.graphiql-response');
    for (const c of expected) {
      await pane.getByText(c.email).waitFor({ timeout: 15_000 });
    }
    const result = JSON.parse(await editorValue(page, '.graphiql-response'));
    assert.deepEqual(result, {
      data: { customers: { totalCount, nodes: expected.map(({ id, name, email }) => ({ id, name, email })) } },
    });
    await page.screenshot({ path: path.join(ARTIFACTS, 'graphiql-result.png') });
  });

  test('shows a deferred query\'s increments merged into the result pane', async () => {
    const first3 = (await restCustomers({ site_id: '101' }, 'name')).slice(0, 3);
    const expected = [];
    for (const c of first3) {
      const rest = (await restGet(`/v1/customers/${c.id}`)).data;
      const contact = (await restGet(`/v1/contacts/${rest.relationships.contact.data.id}`)).data;
      expected.push({ id: c.id, name: c.name, contact: { email: contact.attributes.email } });
    }

    await page.click('.graphiql-query-editor .CodeMirror');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type(DEFERRED, { delay: 5 });
    await page.keyboard.press('Escape');
    assert.equal(await editorValue(page, '.graphiql-query-editor'), DEFERRED);
    await page.locator('.graphiql-tab-button', { hasText: 'DeferredContacts' }).waitFor({ timeout: 10_000 });

    const answered = page.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('DeferredContacts'));
    await page.click('.graphiql-execute-button');
    const res = await answered;
    assert.equal(res.status(), 200);
    assert.match(res.request().headers().accept, /multipart\/mixed/);
    const contentType = res.headers()['content-type'];
    assert.match(contentType, /^multipart\/mixed/, 'the service streamed increments');
    // On the wire: the list without contacts, then the contacts in later parts. Chromium
    // does not keep a streamed body for devtools reliably, so send GraphiQL's own request
    // (same Accept, same body) once more from here and read its parts.
    const sent = res.request();
    const again = await fetch(sent.url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: sent.headers().accept },
      body: sent.postData(),
    });
    const boundary = /boundary="?([^";]+)"?/.exec(again.headers.get('content-type'))[1];
    const payloads = (await again.text()).split(`--${boundary}`).map((p) => p.split('\r\n\r\n')[1])
      .filter((p) => p && p.trim()).map((p) => JSON.parse(p));
    assert.ok(payloads.length >= 2, `got ${payloads.length} parts, want the list and its increments`);
    assert.ok(payloads[0].data.customers.nodes.every((n) => !n.contact), 'the first part has no contacts');
    assert.equal(payloads.at(-1).hasNext, false);

    // What a person sees: GraphiQL merged every increment into one result.
    const pane = page.locator('.graphiql-response');
    for (const c of expected) {
      await pane.getByText(c.contact.email).waitFor({ timeout: 15_000 });
    }
    const result = JSON.parse(await editorValue(page, '.graphiql-response'));
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    assert.deepEqual(result.data, { customers: { nodes: expected } });
    await page.screenshot({ path: path.join(ARTIFACTS, 'graphiql-defer.png') });
  });

  test('shows a subscription\'s events arriving in the result pane', async () => {
    const [c] = (await restGet('/v1/customers?filter[site_id]=101&page[size]=1')).data;
    const customer = { id: c.id, name: c.attributes.name, email: c.attributes.email };
    const eventIds = () => page.$eval('.graphiql-response .CodeMirror', (el) => {
      try {
        return JSON.parse(el.CodeMirror.getValue()).data?.customerActivity?.eventId ?? null;
      } catch {
        return null; // empty, or GraphiQL is between two results
      }
    });

    const sockets = [];
    page.on('websocket', (ws) => {
      const frames = { sent: [], received: [], closed: false };
      ws.on('framesent', (f) => frames.sent.push(String(f.payload)));
      ws.on('framereceived', (f) => frames.received.push(String(f.payload)));
      ws.on('close', () => { frames.closed = true; });
      sockets.push({ url: ws.url(), frames });
    });

    await page.click('.graphiql-query-editor .CodeMirror');
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type(SUBSCRIPTION, { delay: 5 });
    await page.keyboard.press('Escape');
    assert.equal(await editorValue(page, '.graphiql-query-editor'), SUBSCRIPTION);
    await page.locator('.graphiql-tab-button', { hasText: 'LivePurchases' }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: /^Prettify query/ }).click();
    await page.click('.graphiql-execute-button');

    // The subscription is only known to listen once an event reaches it: post warm-up
    // purchases (bounded) until one shows in the pane.
    let warm;
    for (let i = 0; i < MAX_WAITS && !warm; i++) {
      assert.equal(await postWebhook(purchaseDelivery(freshId('warm'), customer.id)), 202, 'warm-up delivery');
      await page.waitForTimeout(WAIT_MS);
      warm = (await eventIds())?.includes('-warm-');
    }
    assert.ok(warm, `no event reached GraphiQL's subscription after ${MAX_WAITS} deliveries`);

    // Two purchases, one after the other: each replaces the last in the pane as it arrives.
    for (const what of ['first', 'second']) {
      const eventId = freshId(what);
      assert.equal(await postWebhook(purchaseDelivery(eventId, customer.id)), 202);
      await page.locator('.graphiql-response').getByText(eventId).waitFor({ timeout: 15_000 });
      const result = JSON.parse(await editorValue(page, '.graphiql-response'));
      assert.deepEqual(result, {
        data: {
          customerActivity: {
            __typename: 'PurchaseEvent',
            eventId,
            event: 'PURCHASE',
            siteId: '101',
            purchase: { id: '9001', amountInCents: 1000, currency: 'USD' },
            // read from Kajabi, not the delivery's embedded copy (name "A", a@example.com)
            customer,
          },
        },
      });
      if (what === 'first') await page.screenshot({ path: path.join(ARTIFACTS, 'graphiql-subscription.png') });
    }

    // They came over one graphql-transport-ws socket to the page's own endpoint.
    assert.equal(sockets.length, 1, `sockets: ${JSON.stringify(sockets.map((s) => s.url))}`);
    const [{ url, frames }] = sockets;
    assert.equal(url, graphqlWsURL);
    assert.equal(JSON.parse(frames.sent[0]).type, 'connection_init');
    assert.ok(frames.received.some((f) => f.includes('"next"') && f.includes('-second-')), 'the second event arrived as a "next" message');

    // Stopping it (the execute button is a stop button while it runs) closes the socket.
    await page.click('.graphiql-execute-button');
    for (let i = 0; i < MAX_WAITS && !frames.closed; i++) await page.waitForTimeout(WAIT_MS);
    assert.ok(frames.sent.some((f) => JSON.parse(f).type === 'complete'), `frames sent: ${frames.sent.join(' ')}`);
    assert.ok(frames.closed, 'the socket closed once the subscription stopped');
  });

  test('docs explorer describes CustomerFilter', async () => {
    const { __type: filter } = await graphql(`{ __type(name: "CustomerFilter") { description inputFields { name description } } }`);
    assert.ok(filter.inputFields.length > 10);

    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const search = page.locator('.graphiql-doc-explorer-search-input input, input.graphiql-doc-explorer-search-input, .graphiql-doc-explorer-search input').first();
    await search.click();
    await search.fill('CustomerFilter');
    await page.locator('.graphiql-doc-explorer-search [role="option"], .graphiql-doc-explorer-search li')
      .filter({ hasText: /^CustomerFilter$/ }).first().click();
    await page.locator('.graphiql-doc-explorer-title', { hasText: 'CustomerFilter' }).waitFor({ timeout: 10_000 });

    const text = normalize(await page.locator('.graphiql-doc-explorer-content').innerText());
    assert.ok(text.includes(normalize(filter.description)), `type description missing from: ${text.slice(0, 400)}`);
    const missing = filter.inputFields.filter((f) => !text.includes(f.name) || (f.description && !text.includes(normalize(f.description))));
    assert.deepEqual(missing.map((f) => f.name), [], 'every field and its description is shown');
    await page.screenshot({ path: path.join(ARTIFACTS, 'graphiql-docs.png') });
  });

  test('stays on 127.0.0.1 and within its CSP', () => {
    assert.ok(requests.length >= 6, `page, assets and GraphQL requests seen: ${requests.length}`);
    assert.deepEqual(offHost, [], 'requests that would have left the machine');
    assert.ok(requests.every((u) => new URL(u).hostname === '127.0.0.1' || /^(data|blob):/.test(u)), requests.join('\n'));
    assert.deepEqual(problems, []);
  });
});

// Markdown in descriptions is rendered: compare text without its markup and with collapsed space.
function normalize(s) {
  return s.replace(/`/g, '').replace(/\*\*/g, '').replace(/\s+/g, ' ').trim();
}
