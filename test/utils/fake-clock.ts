import { Clock } from '../../src/common/clock';

/** Real time plus an offset the test moves forward, so expiry and idle rules run without sleeping. */
export class FakeClock extends Clock {
  private offsetMs = 0;

  override now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}
