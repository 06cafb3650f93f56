import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { SessionDto } from '../../sessions/dto/session.dto';
import { UserDto } from '../../users/dto/user.dto';

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com', description: 'Matched after trimming and lower-casing, as at signup.' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsString()
  @MinLength(1)
  @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'correct horse battery', format: 'password' })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password: string;
}

export class LoginResponseDto {
  @ApiProperty({ type: UserDto }) user: UserDto;
  @ApiProperty({ type: SessionDto }) session: SessionDto;
}

export class MessageDto {
  @ApiProperty({ example: 'Logged out' }) message: string;
}

export class SessionStatusDto {
  @ApiProperty({ example: true }) authenticated: boolean;
  @ApiProperty({ type: UserDto }) user: UserDto;
  @ApiProperty({ type: SessionDto }) session: SessionDto;
  @ApiProperty({ example: 86340, description: 'Whole seconds until the session expires.' }) expires_in: number;
}
