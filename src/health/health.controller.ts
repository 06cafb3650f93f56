import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { ApiErrors } from '../common/api-docs';
import { Public } from '../auth/auth.decorators';
import { errorBody } from '../common/http-error';

export class LiveDto {
  @ApiProperty({ example: 'ok' }) status: string;
}

export class HealthDto {
  @ApiProperty({ example: 'ok' }) status: string;
  @ApiProperty({ example: 'up' }) database: string;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  /** Liveness: the process answers. Touches neither session nor database, so it stays cheap under load. */
  @Public()
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process is up and serving. Touches neither the session nor the database.' })
  @ApiOkResponse({ type: LiveDto })
  live(): LiveDto {
    return { status: 'ok' };
  }

  @Public()
  @Get()
  @ApiOperation({ summary: 'Liveness and database reachability.' })
  @ApiOkResponse({ type: HealthDto })
  @ApiErrors(503)
  async check(): Promise<HealthDto> {
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      throw new ServiceUnavailableException(
        errorBody(503, 'The database is unreachable', { status: 'error', database: 'down' }),
      );
    }
    return { status: 'ok', database: 'up' };
  }
}
