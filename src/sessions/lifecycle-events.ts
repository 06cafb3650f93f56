import type { Transaction } from '../common/database/transactions';
import type { EndReason } from './session.entity';

/**
 * The session and account events other services are told of (WEBHOOK_URLS), each with what it
 * carries: ids, times and a few device facts, never a token, hash, password, address or IP.
 */
export interface LifecycleEventData {
  'session.created': { session_id: number; user_id: number; created_at: string; expires_at: string };
  'session.ended': { session_id: number; user_id: number; reason: EndReason; ended_at: string };
  'user.password_changed': { user_id: number; via: 'change' | 'reset'; changed_at: string };
  'user.disabled': { user_id: number; disabled_at: string };
  'login.failed_throttled': { user_id: number | null; retry_after_s: number; at: string };
  'login.new_device': {
    user_id: number;
    session_id: number;
    browser: string | null;
    os: string | null;
    country: string | null;
    at: string;
  };
}
export type LifecycleEventType = keyof LifecycleEventData;

/**
 * Where those events go, declared here (sessions and auth emit them) and provided from above
 * (src/webhooks: the outbox rows that deliver them). `emit` writes in `tx`, the transaction of the
 * change the event reports, so the event exists if and only if the change committed. `orderingKey`
 * groups events delivered in the order written (a session's, or a user's); null: no order kept.
 */
export abstract class LifecycleEvents {
  abstract emit<T extends LifecycleEventType>(
    type: T,
    data: LifecycleEventData[T],
    orderingKey: string | null,
    tx: Transaction,
  ): Promise<void>;
}

/** The ordering key of a session's events, and of a user's account events. */
export const sessionKey = (sessionId: number) => `session:${sessionId}`;
export const userKey = (userId: number) => `user:${userId}`;
