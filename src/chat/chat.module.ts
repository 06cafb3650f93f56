import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { Chat } from './chat.entity';
import { ChatController } from './chat.controller';
import { ChatService } from './chat.service';
import { GlobalChat } from './global-chat.entity';

@Module({
  imports: [TypeOrmModule.forFeature([Chat, GlobalChat]), UsersModule],
  controllers: [ChatController],
  providers: [ChatService],
})
export class ChatModule {}
