import { Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerGuard, type ThrottlerModuleOptions, type ThrottlerStorage } from '@nestjs/throttler';
import type { AuthedRequest } from '../sessions/request-auth.decorators';
import type { AppConfig } from '../config/app.config';

export const CHAT_THROTTLER_OPTIONS = Symbol('CHAT_THROTTLER_OPTIONS');
export const CHAT_THROTTLER_STORAGE = Symbol('CHAT_THROTTLER_STORAGE');

/**
 * The send limit of POST /chats and POST /global_chat: CHAT_RATE_LIMIT messages per session per
 * CHAT_RATE_WINDOW seconds, both routes together (one key per session, so alternating routes gains
 * nothing); the next gets 429 with Retry-After and the session waits out one window.
 *
 * @nestjs/throttler's guard with options and storage of its own: the ThrottlerModule that AuthModule
 * registers is global and counts per client address, for /login and /signup. Counting per session
 * (not per address, not per account) is the contract's: users behind one address do not share a
 * budget, and one account's flood takes nothing from another session's. It runs after the global
 * SessionGuard, so the session is known; the counts are in Redis with REDIS_URL, shared by every
 * instance, else in this process.
 */
@Injectable()
export class ChatSendThrottle extends ThrottlerGuard {
  constructor(
    @Inject(CHAT_THROTTLER_OPTIONS) options: ThrottlerModuleOptions,
    @Inject(CHAT_THROTTLER_STORAGE) storage: ThrottlerStorage,
    reflector: Reflector,
  ) {
    super(options, storage, reflector);
  }
}

export function chatThrottlerOptions(config: AppConfig): ThrottlerModuleOptions {
  return {
    throttlers: [
      {
        // "default": the name @nestjs/throttler leaves out of its headers, so the 429 says Retry-After.
        name: 'default',
        ttl: config.chatRateLimit.windowSeconds * 1000,
        limit: config.chatRateLimit.messages,
        generateKey: (_context, tracker) => `chat:${tracker}`,
      },
    ],
    errorMessage: 'Too many messages; try again later',
    getTracker: (req: Record<string, unknown>) => {
      const session = (req as unknown as AuthedRequest).auth?.session;
      // Both routes require a session, so SessionGuard has refused a request without one already.
      if (!session) throw new Error('ChatSendThrottle on a route without a session');
      return `session:${session.id}`;
    },
  };
}
