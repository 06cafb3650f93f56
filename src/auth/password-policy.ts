import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { appConfig, type AppConfig } from '../config/app.config';

/**
 * Optional refusal of common passwords (ASVS V6.2.4), on with PASSWORD_DENY_COMMON=true. Off by
 * default because the contract (API.md) defines a valid password as 8–72 bytes and nothing more:
 * clients written against it may sign up with "password123". The list is zxcvbn's ~49,000 most
 * common passwords, compared case-insensitively, and loaded only when the rule is on.
 */
@Injectable()
export class PasswordPolicy {
  private common?: Set<string>;

  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {}

  assertAcceptable(password: string, field: string): void {
    if (!this.config.passwordDenyCommon) return;
    // A 49k-word list, loaded only when the rule is on.
    this.common ??= new Set(
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('@zxcvbn-ts/language-common') as { dictionary: { passwords: string[] } }).dictionary.passwords,
    );
    if (this.common.has(password.normalize('NFC').toLowerCase())) {
      throw new BadRequestException([`${field} is one of the most common passwords; choose another`]);
    }
  }
}
