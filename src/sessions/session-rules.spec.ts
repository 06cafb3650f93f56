import { activityWriteInterval, credentialsChangedSince, judgeSession, type SessionState } from './session-rules';

const t0 = new Date('2026-11-27T12:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const active = (over: Partial<SessionState> = {}): SessionState => ({
  isActive: true,
  endReason: null,
  expiresAt: at(3600),
  lastActivity: t0,
  ...over,
});

describe('judgeSession', () => {
  it('accepts an active session before expires_at', () => {
    expect(judgeSession(active(), at(3599), 0)).toEqual({ ok: true });
  });

  it('expires a session at expires_at exactly, and asks for it to be ended', () => {
    expect(judgeSession(active(), at(3600), 0)).toEqual({ ok: false, reason: 'expired', endNow: true });
  });

  it('ignores idleness when the idle timeout is off', () => {
    expect(judgeSession(active({ expiresAt: at(10 ** 6) }), at(10 ** 5), 0)).toEqual({ ok: true });
  });

  it('ends a session idle for longer than the idle timeout, not one idle for exactly that long', () => {
    expect(judgeSession(active(), at(300), 300)).toEqual({ ok: true });
    expect(judgeSession(active(), at(301), 300)).toEqual({ ok: false, reason: 'idle_timeout', endNow: true });
  });

  it('reports expiry before idleness when both apply', () => {
    expect(judgeSession(active(), at(4000), 60)).toMatchObject({ reason: 'expired' });
  });

  it('keeps the recorded reason of an ended session and does not end it again', () => {
    expect(judgeSession(active({ isActive: false, endReason: 'revoked' }), at(1), 0)).toEqual({
      ok: false,
      reason: 'revoked',
      endNow: false,
    });
    expect(judgeSession(active({ isActive: false, endReason: null }), at(1), 0)).toEqual({
      ok: false,
      reason: 'logged_out',
      endNow: false,
    });
  });
});

describe('activityWriteInterval', () => {
  it('is one minute without an idle timeout', () => {
    expect(activityWriteInterval(0)).toBe(60_000);
  });
  it('is at most a quarter of the idle timeout', () => {
    expect(activityWriteInterval(120)).toBe(30_000);
    expect(activityWriteInterval(1)).toBe(250);
    expect(activityWriteInterval(3600)).toBe(60_000);
  });
});

describe('credentialsChangedSince', () => {
  it("keeps a session born under the user's current credential version", () => {
    expect(credentialsChangedSince({ credentialVersion: 3 }, { credentialVersion: 3 })).toBe(false);
  });

  it('refuses a session born under any other version (older, or newer than a stale read of the user)', () => {
    expect(credentialsChangedSince({ credentialVersion: 2 }, { credentialVersion: 3 })).toBe(true);
    expect(credentialsChangedSince({ credentialVersion: 0 }, { credentialVersion: 7 })).toBe(true);
    expect(credentialsChangedSince({ credentialVersion: 4 }, { credentialVersion: 3 })).toBe(true);
  });
});
