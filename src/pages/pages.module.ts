import { Global, Module } from '@nestjs/common';
import { FormPages } from '../auth/browser-form';
import { SessionsModule } from '../sessions/sessions.module';
import { PagesController } from './pages.controller';
import { renderFormPage } from './pages';

// Global for FormPages alone: auth's form routes show these pages on an error, and auth cannot
// import PagesModule (pages sits above every feature; docs/ARCHITECTURE.md).
@Global()
@Module({
  imports: [SessionsModule],
  controllers: [PagesController],
  providers: [{ provide: FormPages, useValue: { render: renderFormPage } satisfies FormPages }],
  exports: [FormPages],
})
export class PagesModule {}
