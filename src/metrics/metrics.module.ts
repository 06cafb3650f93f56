import { Global, Module } from '@nestjs/common';
import { Meter } from '../common/meter';
import { MetricsService } from './metrics.service';

/**
 * Prometheus metrics (MetricsService). Global, so every feature can inject the Meter it declares
 * in common without importing this module.
 */
@Global()
@Module({
  providers: [MetricsService, { provide: Meter, useExisting: MetricsService }],
  exports: [MetricsService, Meter],
})
export class MetricsModule {}
