import { BadRequestException } from '@nestjs/common';
import { parseEnv } from '../config/app.config';
import { PasswordPolicy } from './password-policy';

describe('PasswordPolicy', () => {
  it("accepts any password when PASSWORD_DENY_COMMON is off (the default: the contract's rule only)", () => {
    expect(() => new PasswordPolicy(parseEnv({})).assertAcceptable('password123', 'password')).not.toThrow();
  });

  it('refuses the most common passwords, in any case, naming the field, when on', () => {
    const policy = new PasswordPolicy(parseEnv({ PASSWORD_DENY_COMMON: 'true' }));
    for (const common of ['password', 'Password1', 'QWERTY123', '12345678', 'iloveyou']) {
      let error: unknown;
      try {
        policy.assertAcceptable(common, 'new_password');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BadRequestException);
      expect((error as BadRequestException).getResponse()).toMatchObject({
        message: [expect.stringContaining('new_password')],
      });
    }
    expect(() => policy.assertAcceptable('correct horse battery staple 42', 'password')).not.toThrow();
  });
});
