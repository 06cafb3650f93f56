import { Global, Module } from '@nestjs/common';
import { Clock } from './clock';

/** Provides the one Clock of the app to every module (tests replace it with a fake one). */
@Global()
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}
