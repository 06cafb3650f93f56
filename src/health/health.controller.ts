import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Auth } from '../common/access/auth.decorator';
import { ErrorDto, errorExample } from '../common/api-docs';
import { HealthService } from './health.service';

export class LiveDto {
  @ApiProperty({ example: 'ok' }) status: string;
}

export class HealthDto {
  @ApiProperty({ example: 'ok' }) status: string;
  @ApiProperty({ example: 'up' }) database: string;
}

export class NotReadyDto extends ErrorDto {
  @ApiProperty({ example: 'error' }) status: string;
  @ApiProperty({ example: 'down', enum: ['up', 'down'] }) database: string;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** Liveness: the process answers. Touches neither session nor database, so it stays cheap under load. */
  @Auth({ mode: 'public' })
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process is up and serving. Touches neither the session nor the database.' })
  @ApiOkResponse({ type: LiveDto })
  live(): LiveDto {
    return { status: 'ok' };
  }

  @Auth({ mode: 'public' })
  @Get()
  @ApiOperation({
    summary:
      'Readiness: the database answers (and Redis, when REDIS_URL is set), each within DATABASE_TIMEOUT_MS. ' +
      '503 while one does not, or while the server is shutting down.',
  })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({
    description: 'Not ready; see Retry-After.',
    type: NotReadyDto,
    example: errorExample(503, 'The database is unreachable', { status: 'error', database: 'down' }),
  })
  check(): Promise<HealthDto> {
    return this.health.readiness();
  }
}
