import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Transactions } from '../common/database/transactions';
import { UsersModule } from '../users/users.module';
import { AuthEvents } from './auth-events';
import { SessionsController } from './sessions.controller';
import { Session } from './session.entity';
import { GeoIp } from './geoip.service';
import { SessionCookie } from './session-cookie';
import { SessionLookup } from './session-lookup';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

@Module({
  // UsersModule for the credential change of "end all" (UsersService.changeCredentials).
  imports: [TypeOrmModule.forFeature([Session]), UsersModule],
  controllers: [SessionsController],
  // AuthEvents is provided here, the lower of the two modules that log authentication events,
  // and exported to AuthModule with SessionsService.
  providers: [SessionsService, SessionsRepository, SessionLookup, Transactions, AuthEvents, SessionCookie, GeoIp],
  exports: [SessionsService, AuthEvents, SessionCookie, GeoIp],
})
export class SessionsModule {}
