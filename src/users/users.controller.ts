import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiSession } from '../common/api-docs';
import { CurrentUser, RedirectBrowsersTo } from '../common/auth.decorators';
import { SessionsService } from '../sessions/sessions.service';
import { toUserDto, UserPageDto } from './dto/user.dto';
import { User } from './user.entity';

@ApiTags('users')
@Controller()
export class UsersController {
  constructor(private readonly sessions: SessionsService) {}

  @Get('userpage')
  @RedirectBrowsersTo('/login_page')
  @ApiOperation({
    summary: 'The protected user dashboard: the user and the number of active sessions.',
    description: 'A signed-out browser navigating here (Accept: text/html) is redirected (302) to /login_page instead of getting 401.',
  })
  @ApiOkResponse({ type: UserPageDto })
  @ApiSession()
  async userpage(@CurrentUser() user: User): Promise<UserPageDto> {
    return { user: toUserDto(user), active_sessions: await this.sessions.countUsable(user.id) };
  }
}
