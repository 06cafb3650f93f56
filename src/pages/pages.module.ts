import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { PagesController } from './pages.controller';

@Module({
  imports: [SessionsModule],
  controllers: [PagesController],
})
export class PagesModule {}
