import type { EndReason } from './session.entity';

/** The reasons a session ends by time alone, which whoever notices first records. */
export type TimeoutReason = Extract<EndReason, 'expired' | 'idle_timeout'>;

/** What the guard needs to know about a stored session to decide whether it may be used. */
export interface SessionState {
  isActive: boolean;
  endReason: EndReason | null;
  expiresAt: Date;
  lastActivity: Date;
}

export type SessionVerdict =
  { ok: true } | { ok: false; reason: EndReason; endNow: false } | { ok: false; reason: TimeoutReason; endNow: true };

/**
 * The session rules of the contract, as a pure function: an ended session keeps the reason it
 * ended with; an active one past `expires_at` is expired; one unused for longer than the idle
 * timeout (when set) is idle. `endNow` tells the caller to record the ending.
 */
export function judgeSession(s: SessionState, now: Date, idleTimeoutSeconds: number): SessionVerdict {
  if (!s.isActive) return { ok: false, reason: s.endReason ?? 'logged_out', endNow: false };
  if (now.getTime() >= s.expiresAt.getTime()) return { ok: false, reason: 'expired', endNow: true };
  if (idleTimeoutSeconds > 0 && now.getTime() - s.lastActivity.getTime() > idleTimeoutSeconds * 1000) {
    return { ok: false, reason: 'idle_timeout', endNow: true };
  }
  return { ok: true };
}

/**
 * Whether the owner's credentials changed since the session was born: a password change or reset,
 * a disable or an "end all" moved the user's credential_version on, and the session still carries
 * the one its login read with the password hash. Such a session is never usable again, even after
 * a re-enable: versions only go up. This is what makes every credential change end every session
 * it should, including one whose login was still in flight when the change committed (the ending
 * of rows by the change itself is bookkeeping on top).
 */
export function credentialsChangedSince(
  session: { credentialVersion: number },
  user: { credentialVersion: number },
): boolean {
  return session.credentialVersion !== user.credentialVersion;
}

/**
 * How stale `last_activity` may get before the guard writes it again. Writing on every request
 * would make each read a write; once a minute is precise enough for "last seen", and with an idle
 * timeout the interval is at most a quarter of it, so a session in use never looks idle.
 */
export function activityWriteInterval(idleTimeoutSeconds: number): number {
  const minute = 60_000;
  if (idleTimeoutSeconds <= 0) return minute;
  return Math.min(minute, Math.floor((idleTimeoutSeconds * 1000) / 4));
}
