import { Body, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth } from '../common/access/auth.decorator';
import { ApiErrors } from '../common/api-docs';
import { CurrentUser } from '../sessions/request-auth.decorators';
import { ParseIdPipe } from '../common/validation.pipe';
import type { User } from '../users/user.entity';
import { ChatSendThrottle } from './chat-send-throttle.guard';
import { ChatService } from './chat.service';
import {
  ChatCreatedDto,
  ChatMessagesDto,
  ConversationListDto,
  ConversationPageQueryDto,
  GlobalChatCreatedDto,
  GlobalChatListDto,
  PageQueryDto,
  PostGlobalChatDto,
  SendChatDto,
} from './dto/chat.dto';

const SEND_LIMIT =
  'Sending is limited per session, POST /chats and POST /global_chat together (default 30 messages a minute; ' +
  'CHAT_RATE_LIMIT per CHAT_RATE_WINDOW seconds): past it, 429 with Retry-After (whole seconds).';

@ApiTags('chat')
@Auth()
@Controller()
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @UseGuards(ChatSendThrottle)
  @Post('chats')
  @ApiOperation({ summary: 'Sends a private message.', description: SEND_LIMIT })
  @ApiCreatedResponse({ type: ChatCreatedDto })
  @ApiErrors(400, 403, 404, 413, 415, 429)
  async send(@CurrentUser() user: User, @Body() dto: SendChatDto): Promise<ChatCreatedDto> {
    return { chat: await this.chat.send(user, dto.receiver_id, dto.message) };
  }

  @Get('chats')
  @ApiOperation({
    summary: "The caller's conversations with their latest message, most recent first, paged by before.",
    description:
      'One entry per person the caller has exchanged messages with, ordered by the id of the latest message. ' +
      'For the next page pass `before` = the `last_message.id` of the last entry; an empty page is the end.',
  })
  @ApiOkResponse({ type: ConversationListDto })
  @ApiErrors(400)
  async conversations(
    @CurrentUser() user: User,
    @Query() page: ConversationPageQueryDto,
  ): Promise<ConversationListDto> {
    return { conversations: await this.chat.conversations(user, page) };
  }

  @Get('chats/:user_id')
  @ApiOperation({ summary: 'The messages between the caller and one user, newest first, paged by before_id.' })
  @ApiOkResponse({ type: ChatMessagesDto })
  @ApiErrors(400, 404)
  async conversation(
    @CurrentUser() user: User,
    @Param('user_id', ParseIdPipe) otherId: number,
    @Query() page: PageQueryDto,
  ): Promise<ChatMessagesDto> {
    return { messages: await this.chat.conversation(user, otherId, page) };
  }

  @UseGuards(ChatSendThrottle)
  @Post('global_chat')
  @ApiOperation({ summary: 'Posts to the global room.', description: SEND_LIMIT })
  @ApiCreatedResponse({ type: GlobalChatCreatedDto })
  @ApiErrors(400, 403, 413, 415, 429)
  async postGlobal(@CurrentUser() user: User, @Body() dto: PostGlobalChatDto): Promise<GlobalChatCreatedDto> {
    return { message: await this.chat.postGlobal(user, dto.message) };
  }

  @Get('global_chat')
  @ApiOperation({ summary: 'The global room, newest first, paged by before_id.' })
  @ApiOkResponse({ type: GlobalChatListDto })
  @ApiErrors(400)
  async listGlobal(@Query() page: PageQueryDto): Promise<GlobalChatListDto> {
    return { messages: await this.chat.listGlobal(page) };
  }
}
