import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { READINESS_CHECKS } from './readiness';

@Module({
  // Terminus's own logger is off: HealthService logs a failed check once, as a warning.
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [
    HealthService,
    // Extra readiness checks (see readiness.ts): Redis joins here when REDIS_URL is set.
    { provide: READINESS_CHECKS, useValue: [] },
  ],
})
export class HealthModule {}
