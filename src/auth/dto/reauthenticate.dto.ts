import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class ReauthenticateDto {
  @ApiProperty({ format: 'password', example: 'correct horse battery' })
  @MinLength(1)
  @MaxLength(1024)
  @IsString()
  password: string;
}

export class ReauthenticateResponseDto {
  @ApiProperty({
    type: String,
    format: 'date-time',
    description:
      "The session's new auth_time (now). Actions that need a recent password are allowed until auth_time + REAUTH_MAX_AGE.",
  })
  auth_time: string;
}
