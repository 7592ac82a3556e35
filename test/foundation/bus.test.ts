import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryBus,
  createRedisBus,
  type BusEvent,
  type RealtimeBus,
} from '../../server/src/core/realtime/bus.ts';
import { redisUrl } from '../support/env.ts';
import { uniquePrefix } from '../support/redis.ts';
import { sleep } from '../support/wait.ts';

/** Collects what a subscriber receives; `next()` waits for the next event (or fails after a timeout). */
function recorder(bus: RealtimeBus) {
  const received: BusEvent[] = [];
  const waiters: (() => void)[] = [];
  const unsubscribe = bus.subscribe((event) => {
    received.push(event);
    waiters.splice(0).forEach((wake) => wake());
  });
  return {
    received,
    unsubscribe,
    async next(count: number, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`Expected ${count} events, got ${received.length}`);
        await Promise.race([new Promise<void>((wake) => waiters.push(wake)), sleep(50)]);
      }
      return received;
    },
  };
}

const revoked = (userId: string): BusEvent => ({ type: 'auth.revoked', userId, sessionIds: [`s-${userId}`] });

describe('memory bus', () => {
  it('delivers a published event to every subscriber, and no longer to one that unsubscribed', async () => {
    const bus = createMemoryBus();
    const a = recorder(bus);
    const b = recorder(bus);
    await bus.publish(revoked('u1'));
    expect(await a.next(1)).toEqual([revoked('u1')]);
    expect(await b.next(1)).toEqual([revoked('u1')]);

    a.unsubscribe();
    await bus.publish(revoked('u2'));
    expect(await b.next(2)).toEqual([revoked('u1'), revoked('u2')]);
    // Both subscribers are called from the same emit, so by now `a` would have had it.
    expect(a.received).toEqual([revoked('u1')]);
    await bus.close();
  });
});

const redisVariants = redisUrl ? [redisUrl] : [];

describe.each(redisVariants)('redis bus (%s)', (url) => {
  const opened: RealtimeBus[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((b) => b.close()));
  });
  const open = async (channel: string) => {
    const bus = await createRedisBus(url, channel);
    opened.push(bus);
    return bus;
  };

  it('carries an event published by one server instance to subscribers on every instance', async () => {
    const channel = uniquePrefix('bus');
    const one = await open(channel);
    const two = await open(channel);
    const elsewhere = await open(uniquePrefix('bus-other'));
    const onOne = recorder(one);
    const onTwo = recorder(two);
    const onElsewhere = recorder(elsewhere);

    await one.publish(revoked('u1'));
    expect(await onTwo.next(1)).toEqual([revoked('u1')]);
    // The publishing instance's own sockets must hear it too.
    expect(await onOne.next(1)).toEqual([revoked('u1')]);

    onTwo.unsubscribe();
    await two.publish(revoked('u2'));
    expect(await onOne.next(2)).toEqual([revoked('u1'), revoked('u2')]);
    expect(onTwo.received).toHaveLength(1);
    // Another channel (another deployment sharing this Redis) hears nothing.
    expect(onElsewhere.received).toEqual([]);

    await one.ping();
  });

  it("hands an event to the publishing instance's own subscribers exactly once, before Redis echoes it", async () => {
    const channel = uniquePrefix('bus');
    const one = await open(channel);
    const two = await open(channel);
    const onOne = recorder(one);
    const onTwo = recorder(two);
    const published = one.publish(revoked('u1'));
    // Delivered locally on the next tick, whether or not Redis has answered the PUBLISH yet.
    await new Promise((resolve) => setImmediate(resolve));
    expect(onOne.received).toEqual([revoked('u1')]);
    await published;
    // By the time another instance has it, the echo has reached this one too — and was skipped.
    expect(await onTwo.next(1)).toEqual([revoked('u1')]);
    await one.ping();
    await sleep(50);
    expect(onOne.received).toEqual([revoked('u1')]);
  });

  it('closes cleanly, releasing its connections', async () => {
    const bus = await createRedisBus(url, uniquePrefix('bus'));
    await expect(bus.close()).resolves.toBeUndefined();
    await expect(bus.ping()).rejects.toThrow();
  });
});
