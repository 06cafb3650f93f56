import { ConflictException } from '@nestjs/common';
import type { AppConfig } from '../config/app.config';
import type { User } from './user.entity';
import type { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

/** UsersService's rules with its repository faked: no database. */
function setup() {
  const taken = new Set<string>(['taken@example.com']);
  const repo = {
    insert: jest.fn((row: Omit<User, 'id'>) => Promise.resolve(taken.has(row.email) ? null : { id: 1, ...row })),
    emailExists: jest.fn((email: string) => Promise.resolve(taken.has(email))),
  };
  const now = new Date('2030-01-01T00:00:00.000Z');
  const clock = { now: () => new Date(now) };
  const config = { adminEmails: ['boss@example.com'] } as AppConfig;
  const service = new UsersService(repo as unknown as UsersRepository, clock, config);
  return { service, repo, now };
}

const newUser = (email: string) => ({ name: 'Ada', phone: '+33123456789', email, passwordHash: '$2b$04$hash' });

describe('UsersService (rules, against a fake repository)', () => {
  it('creates an active user at the current time, an administrator exactly when ADMIN_EMAILS lists the email', async () => {
    const { service, now } = setup();
    expect(await service.create(newUser('ada@example.com'))).toMatchObject({
      email: 'ada@example.com',
      createdAt: now,
      lastLogin: null,
      isActive: true,
      isAdmin: false,
      credentialVersion: 0,
    });
    expect(await service.create(newUser('boss@example.com'))).toMatchObject({ isAdmin: true });
  });

  it('answers 409 for a taken email, whether seen before hashing or only by the unique index', async () => {
    const { service } = setup();
    await expect(service.assertEmailFree('taken@example.com')).rejects.toThrow(ConflictException);
    await expect(service.assertEmailFree('free@example.com')).resolves.toBeUndefined();
    await expect(service.create(newUser('taken@example.com'))).rejects.toThrow(
      new ConflictException('An account with this email already exists'),
    );
  });
});
