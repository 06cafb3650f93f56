/**
 * What the features tell the metrics (src/metrics implements it, MetricsModule provides it to
 * every module). Declared here, low, so that sessions and auth can count without knowing the
 * metrics module. Each call is a counter or histogram update in memory: nothing waits on it.
 * Injected as optional, so a unit test that builds a service by hand needs none.
 */
export abstract class Meter {
  /** A sign-in attempt recorded with this outcome (a login attempt reason: ok, bad_password, throttled…). */
  abstract signIn(outcome: string): void;
  /** The session guard's answer on a route that looks the session up: `ok` or the 401 reason. */
  abstract sessionCheck(result: string): void;
  /** A session row inserted. */
  abstract sessionStarted(): void;
  /** `count` sessions ended with `reason` (an end reason: logged_out, revoked, expired…). */
  abstract sessionsEnded(reason: string, count: number): void;
  /** One bcrypt hash or compare (queue wait excluded) took `seconds`. */
  abstract passwordHashed(seconds: number): void;
  /** Read at each scrape: how many hashes are waiting for a slot. */
  abstract watchHashQueue(depth: () => number): void;
  /** An outbox delivery of `kind` (mail, webhook) failed: `retry` (tried again later) or `given_up`. */
  abstract outboxDeliveryFailed(kind: string, outcome: 'retry' | 'given_up'): void;
}
