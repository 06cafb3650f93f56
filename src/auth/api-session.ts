import { ApiProperty } from '@nestjs/swagger';
import { ErrorDto } from '../common/api-docs';
import { AUTH_FAILURE_REASONS } from './auth-failure';

/**
 * The session guard's 401 body. @Auth (common/access) refers to it by name; AuthController
 * registers it (@ApiExtraModels), since only auth knows every reason a session can have ended.
 */
export class UnauthorizedDto extends ErrorDto {
  @ApiProperty({ example: false }) authenticated: boolean;
  @ApiProperty({ enum: AUTH_FAILURE_REASONS, description: 'Why the request has no valid session.' }) reason: string;
}
