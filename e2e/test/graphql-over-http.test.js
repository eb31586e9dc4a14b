// graphql-http's server audits: the GraphQL-over-HTTP spec's MUSTs, SHOULDs and MAYs,
// each sent to the running service as a real HTTP request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serverAudits } from 'graphql-http';
import { graphqlURL } from './service.js';

// The service blocks GETs without a preflight header (CSRF prevention, as Apollo does: a
// cross-site page can make a browser send a plain GET). The audits' GETs carry the header
// a real client sends; nothing else about them changes.
const withPreflightHeader = (input, init = {}) => {
  const method = (init.method ?? 'GET').toUpperCase();
  if (method !== 'GET') return fetch(input, init);
  const headers = new Headers(init.headers);
  headers.set('apollo-require-preflight', 'true');
  return fetch(input, { ...init, headers });
};

const audits = serverAudits({ url: graphqlURL, fetchFn: withPreflightHeader });

test('graphql-http server audits', async (t) => {
  const tally = { ok: 0, warn: 0, notice: 0, error: 0 };
  for (const audit of audits) {
    await t.test(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      tally[result.status] = (tally[result.status] ?? 0) + 1;
      const detail = result.status === 'ok' ? '' : `${result.reason}\n${await describe(result.response)}`;
      // 'error' is a failed MUST, 'warn' a failed SHOULD, 'notice' a failed MAY: all fail here.
      assert.equal(result.status, 'ok', detail);
    });
  }
  t.diagnostic(`${audits.length} audits: ${tally.ok} ok, ${tally.warn} warn, ${tally.notice} notice, ${tally.error} error`);
  assert.equal(tally.ok, audits.length);
});

async function describe(res) {
  if (!res) return '';
  const body = await res.text().catch(() => '');
  return `got ${res.status} ${res.headers.get('content-type')}: ${body.slice(0, 300)}`;
}
