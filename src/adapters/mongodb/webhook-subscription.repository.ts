import type { Collection, Db } from 'mongodb';
import { ParleyError, isParleyError } from '../../domain/errors.ts';
import type { SecretBox, SecretEnvelope } from '../../ports/secret-box.port.ts';
import type { WebhookSubscription, WebhookSubscriptionStore } from '../../ports/webhook-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { guard } from './mongo-errors.ts';

interface SubscriptionDoc {
  _id: string;
  url: string;
  events: string[];
  /** The signing secret, sealed for this subscription alone. */
  sealed: SecretEnvelope;
  createdAt: Date;
}

/** The AAD context: a secret sealed for one subscription opens for no other. */
const contextOf = (id: string): string => `webhook:${id}`;

/**
 * Webhook subscriptions, their signing secrets sealed with `secrets`. A store opened without a
 * secret box refuses to keep a secret rather than keep it in the clear.
 */
export function createWebhookSubscriptionRepository(db: Db, secrets: SecretBox | undefined): WebhookSubscriptionStore {
  const subscriptions: Collection<SubscriptionDoc> = db.collection<SubscriptionDoc>(COLLECTIONS.webhookSubscriptions);
  const box = (): SecretBox => {
    if (secrets === undefined) throw ParleyError.of('CONFIG_INVALID', { problem: 'the store was opened without a secret key, so it keeps no webhook secrets' });
    return secrets;
  };
  const open = (doc: SubscriptionDoc): string => new TextDecoder().decode(box().open(doc.sealed, contextOf(doc._id)));
  const seal = (id: string, secret: string): SecretEnvelope => box().seal(new TextEncoder().encode(secret), contextOf(id));
  // One secret no key opens must not hide every other subscription: it reads as `null`.
  const secretOf = (doc: SubscriptionDoc): string | null => {
    try {
      return open(doc);
    } catch (err) {
      if (isParleyError(err, 'SECRET_UNREADABLE')) return null;
      throw err;
    }
  };
  const toRecord = (doc: SubscriptionDoc): WebhookSubscription => ({ id: doc._id, url: doc.url, events: doc.events, secret: secretOf(doc), createdAt: doc.createdAt });

  return {
    async create(subscription) {
      const doc: SubscriptionDoc = {
        _id: subscription.id,
        url: subscription.url,
        events: [...subscription.events],
        sealed: seal(subscription.id, subscription.secret ?? ''),
        createdAt: subscription.createdAt,
      };
      await guard('webhookSubscriptions.create', () => subscriptions.insertOne(doc));
      return toRecord(doc);
    },
    async get(id) {
      const doc = await guard('webhookSubscriptions.get', () => subscriptions.findOne({ _id: id }));
      return doc === null ? null : toRecord(doc);
    },
    async list() {
      const docs = await guard('webhookSubscriptions.list', () => subscriptions.find({}).sort({ createdAt: 1, _id: 1 }).toArray());
      return docs.map(toRecord);
    },
    async delete(id) {
      const res = await guard('webhookSubscriptions.delete', () => subscriptions.deleteOne({ _id: id }));
      return res.deletedCount === 1;
    },
    async reseal() {
      const counts = { resealed: 0, unreadable: 0 };
      const stale = await guard('webhookSubscriptions.reseal', () => subscriptions.find({ 'sealed.kid': { $ne: box().currentKid } }).toArray());
      for (const doc of stale) {
        const secret = secretOf(doc);
        if (secret === null) {
          counts.unreadable += 1;
          continue;
        }
        // Unless it changed since it was read (its IV tells).
        const res = await guard('webhookSubscriptions.reseal', () =>
          subscriptions.updateOne({ _id: doc._id, 'sealed.iv': doc.sealed.iv }, { $set: { sealed: seal(doc._id, secret) } }),
        );
        counts.resealed += res.modifiedCount;
      }
      return counts;
    },
  };
}
