import { Injectable } from '@nestjs/common';

/**
 * The server's notion of "now". Every stored time comes from here (never from database defaults),
 * so tests can move time forward to exercise expiry and idle timeouts without sleeping.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
