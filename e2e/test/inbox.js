// Shared by the subscription suites: what a subscription received, and the bounded waits
// that tell when it listens and what reached it.
import assert from 'node:assert/strict';

export const WAIT_MS = 200;
export const MAX_WAITS = 50;

/** What a subscription received, read one event at a time with a bounded wait. */
export class Inbox {
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
export const freshId = (what) => `e2e-${what}-${process.pid}-${Date.now()}-${seq++}`;

/**
 * A subscription is only known to be listening once an event reaches it, so this delivers
 * warm-up events with fresh ids (deliver(eventId) resolves with the webhook's status) until
 * one arrives (bounded), then drops what else came.
 */
export async function warmUp(inbox, deliver) {
  for (let i = 0; i < MAX_WAITS; i++) {
    assert.equal(await deliver(freshId('warm')), 202, 'warm-up delivery');
    if (await inbox.next(WAIT_MS)) break;
    assert.notEqual(i, MAX_WAITS - 1, `no event reached the subscription after ${MAX_WAITS} deliveries`);
  }
  const marker = freshId('settled');
  assert.equal(await deliver(marker), 202, 'marker delivery');
  await eventIdsUntil(inbox, marker);
}

/** The event ids received up to and including marker (bounded). */
export async function eventIdsUntil(inbox, marker) {
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
export async function eventWithId(inbox, eventId) {
  for (let i = 0; i < MAX_WAITS; i++) {
    const ev = await inbox.next(WAIT_MS);
    if (ev?.eventId === eventId) return ev;
  }
  assert.fail(`event ${eventId} did not arrive`);
}
