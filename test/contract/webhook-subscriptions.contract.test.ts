import { randomBytes } from 'node:crypto';
import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { createSecretBox, keyId } from '../../src/adapters/crypto/secret-box.ts';
import { COLLECTIONS } from '../../src/adapters/mongodb/collections.ts';
import { createWebhookSubscriptionRepository } from '../../src/adapters/mongodb/webhook-subscription.repository.ts';
import { isParleyError } from '../../src/domain/errors.ts';
import { useTestStore } from '../support/test-store.ts';

interface RawSubscription {
  _id: string;
  sealed: { v: number; kid: string; iv: string; tag: string; data: string };
}

const secretOf = (fill: number) => `whsec_${Buffer.alloc(32, fill).toString('base64')}`;
const subscription = (id: string, secret: string) => ({ id, url: `https://example.com/${id}?token=t`, events: ['*'], secret, createdAt: new Date(Date.UTC(2026, 0, 1)) });

describe('webhook subscriptions at rest', () => {
  const t = useTestStore('parley_webhook_subscriptions');
  const raw = () => t.db.collection<RawSubscription>(COLLECTIONS.webhookSubscriptions);

  it('keeps the secret sealed: the stored document holds none of it, reads give it back', async () => {
    const secret = secretOf(1);
    expect(await t.store.webhookSubscriptions.create(subscription('wh_sealed', secret))).toMatchObject({ id: 'wh_sealed', secret });
    const doc = await raw().findOne({ _id: 'wh_sealed' });
    expect(doc?.sealed).toEqual({ v: 1, kid: expect.stringMatching(/^[0-9a-f]{16}$/), iv: expect.any(String), tag: expect.any(String), data: expect.any(String) });
    const bytes = Buffer.from(BSON.serialize(doc!));
    expect(bytes.includes(Buffer.from(secret))).toBe(false);
    expect(bytes.includes(Buffer.from(secret.slice(6), 'base64'))).toBe(false);
    expect(await t.store.webhookSubscriptions.get('wh_sealed')).toEqual(subscription('wh_sealed', secret));
    expect((await t.store.webhookSubscriptions.list()).map((s) => s.id)).toContain('wh_sealed');
  });

  it('refuses a duplicate id, deletes once', async () => {
    await t.store.webhookSubscriptions.create(subscription('wh_once', secretOf(2)));
    const again = await t.store.webhookSubscriptions.create(subscription('wh_once', secretOf(3))).catch((err: unknown) => err);
    expect(isParleyError(again, 'STORE_DUPLICATE_KEY')).toBe(true);
    expect(await t.store.webhookSubscriptions.delete('wh_once')).toBe(true);
    expect(await t.store.webhookSubscriptions.delete('wh_once')).toBe(false);
    expect(await t.store.webhookSubscriptions.get('wh_once')).toBeNull();
  });

  it('reads a secret moved onto another subscription as unreadable, without hiding the others', async () => {
    await t.store.webhookSubscriptions.create(subscription('wh_a', secretOf(4)));
    await t.store.webhookSubscriptions.create(subscription('wh_b', secretOf(5)));
    const a = await raw().findOne({ _id: 'wh_a' });
    await raw().updateOne({ _id: 'wh_b' }, { $set: { sealed: a!.sealed } });
    expect((await t.store.webhookSubscriptions.get('wh_b'))?.secret).toBeNull();
    const listed = await t.store.webhookSubscriptions.list();
    expect(listed.find((s) => s.id === 'wh_a')?.secret).toBe(secretOf(4));
    expect(listed.find((s) => s.id === 'wh_b')?.secret).toBeNull();
    await t.store.webhookSubscriptions.delete('wh_b');
  });

  it('seals again under a new key what an earlier key sealed, and counts what no key opens', async () => {
    const first = randomBytes(32);
    const second = randomBytes(32);
    const before = createWebhookSubscriptionRepository(t.db, createSecretBox(first));
    await before.create(subscription('wh_rotate', secretOf(6)));
    const rotated = createWebhookSubscriptionRepository(t.db, createSecretBox(second, [first]));
    const counts = await rotated.reseal();
    // The store's own subscriptions are under the test store's key, which neither box has.
    expect(counts.resealed).toBe(1);
    expect(counts.unreadable).toBeGreaterThanOrEqual(1);
    expect((await raw().findOne({ _id: 'wh_rotate' }))?.sealed.kid).toBe(keyId(second));
    expect((await createWebhookSubscriptionRepository(t.db, createSecretBox(second)).get('wh_rotate'))?.secret).toBe(secretOf(6));
    expect(await rotated.reseal()).toMatchObject({ resealed: 0 });
  });
});
