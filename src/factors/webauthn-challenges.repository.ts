import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { deleteInBatches } from '../common/database/batches';
import { WebauthnChallenge, type ChallengePurpose } from './webauthn-challenge.entity';

/** Who a challenge was issued to: an account and its session, or nobody (a sign-in). */
export type ChallengeBinding = { userId: number; sessionId: number } | null;

/** The `webauthn_challenges` table. Which challenge is good for what is WebauthnChallenges' rule. */
@Injectable()
export class WebauthnChallengesRepository {
  constructor(@InjectRepository(WebauthnChallenge) private readonly challenges: Repository<WebauthnChallenge>) {}

  async insert(row: Omit<WebauthnChallenge, 'id' | 'user'>): Promise<void> {
    await this.challenges.insert(row);
  }

  /**
   * Marks the challenge used, only if it has this purpose and binding, is unused and unexpired at
   * `now`: one statement, so of two requests carrying one challenge exactly one changes the row (on
   * PostgreSQL the second waits for the first's row lock, then finds `used_at` set). Whether it did.
   */
  async consume(challengeHash: string, purpose: ChallengePurpose, binding: ChallengeBinding, now: Date) {
    const bound = binding ? 'user_id = :userId AND session_id = :sessionId' : 'user_id IS NULL AND session_id IS NULL';
    const result = await this.challenges
      .createQueryBuilder()
      .update(WebauthnChallenge)
      .set({ usedAt: now })
      .where(
        `challenge_hash = :challengeHash AND purpose = :purpose AND used_at IS NULL AND expires_at > :now AND ${bound}`,
        {
          challengeHash,
          purpose,
          now,
          ...(binding ?? {}),
        },
      )
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Deletes challenges that expired before `cutoff`, a batch per statement; how many. */
  deleteExpiredBefore(cutoff: Date): Promise<number> {
    return deleteInBatches(this.challenges, (t) => `${t}expiresAt < :cutoff`, { cutoff });
  }
}
