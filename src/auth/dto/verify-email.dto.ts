import { ApiProperty } from '@nestjs/swagger';
import { UserDto } from '../../users/dto/user.dto';
import { EmailTokenField } from './email-token.dto';

export class VerifyEmailDto {
  @EmailTokenField()
  token: string;
}

export class VerifyEmailResponseDto {
  @ApiProperty({ type: UserDto, description: 'The account, with its (new) address and `email_verified: true`.' })
  user: UserDto;
}
