import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { ChallengePurpose } from './webauthn-challenge.entity';
import { WebauthnChallengesRepository, type ChallengeBinding } from './webauthn-challenges.repository';

/** How long a challenge may be answered: the options' timeout too. */
export const CHALLENGE_LIFETIME_MS = 2 * 60_000;

/** The challenges we issue are 32 random bytes, base64url (43 characters). */
const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function hashChallenge(challenge: string): string {
  return createHash('sha256').update(challenge).digest('hex');
}

/**
 * The challenges of WebAuthn ceremonies, kept server-side: each is issued for one purpose (and, but
 * for a sign-in, one account and session), is good for CHALLENGE_LIFETIME_MS, and is spent by the
 * first response that carries it, whether that response then verifies or not.
 */
@Injectable()
export class WebauthnChallenges {
  constructor(
    private readonly challenges: WebauthnChallengesRepository,
    private readonly clock: Clock,
  ) {}

  /** A new challenge (base64url), stored as its hash. */
  async issue(purpose: ChallengePurpose, binding: ChallengeBinding): Promise<string> {
    const challenge = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    await this.challenges.insert({
      challengeHash: hashChallenge(challenge),
      purpose,
      userId: binding?.userId ?? null,
      sessionId: binding?.sessionId ?? null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + CHALLENGE_LIFETIME_MS),
      usedAt: null,
    });
    return challenge;
  }

  /**
   * Spends the challenge a response's clientDataJSON carries, if it was issued for this purpose and
   * binding and is unused and unexpired; returns it, or null (also for clientDataJSON that is not
   * JSON or carries no challenge of ours). One conditional UPDATE: under a race one request wins.
   * The signature over clientDataJSON is checked afterwards, against the challenge returned.
   */
  async consume(clientDataJSON: string, purpose: ChallengePurpose, binding: ChallengeBinding): Promise<string | null> {
    const challenge = challengeOf(clientDataJSON);
    if (!challenge) return null;
    const spent = await this.challenges.consume(hashChallenge(challenge), purpose, binding, this.clock.now());
    return spent ? challenge : null;
  }

  /** The cleanup job's deletion of expired challenges (used or not: either way they are worthless). */
  deleteExpiredBefore(cutoff: Date): Promise<number> {
    return this.challenges.deleteExpiredBefore(cutoff);
  }
}

/** The `challenge` of a base64url clientDataJSON, if it looks like one we issue. */
function challengeOf(clientDataJSON: string): string | null {
  try {
    const data: unknown = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
    const challenge = (data as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === 'string' && CHALLENGE_PATTERN.test(challenge) ? challenge : null;
  } catch {
    return null;
  }
}
