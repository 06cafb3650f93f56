import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Clock } from '../common/clock';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { PasswordHasher } from './password-hasher.service';
import { SessionGuard } from './session.guard';

@Module({
  imports: [UsersModule, SessionsModule],
  controllers: [AuthController],
  providers: [
    AuthService,
    PasswordHasher,
    Clock,
    SessionGuard,
    // useExisting, so a test can override SessionGuard and the global guard follows.
    { provide: APP_GUARD, useExisting: SessionGuard },
  ],
})
export class AuthModule {}
