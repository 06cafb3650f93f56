import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Matches, ValidateIf } from 'class-validator';

/** A code as an app shows it: six digits, spaces allowed between them ("123 456"). */
export const TotpCodeField = ({ optional = false, description = '' } = {}) =>
  applyDecorators(
    ApiProperty({
      required: !optional,
      example: '492039',
      pattern: '^[0-9]{6}$',
      description: `The 6-digit code the authenticator app shows now (spaces between the digits are ignored).${description}`,
    }),
    // Absent is allowed when optional; null is not (IsOptional would let it through).
    ...(optional ? [ValidateIf((_dto: object, value: unknown) => value !== undefined)] : []),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.replace(/\s/g, '') : value)),
    IsString(),
    Matches(/^[0-9]{6}$/, { message: `code must be the 6 digits the authenticator app shows` }),
  );

export class TotpSetupResponseDto {
  @ApiProperty({
    example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    description:
      'The secret (base32, 160 bits), for an app that cannot scan: typed in as the "setup key". Shown here only; stored encrypted.',
  })
  secret: string;

  @ApiProperty({
    example:
      'otpauth://totp/Session%20server:ada%40example.com?issuer=Session%20server&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30',
    description: 'The Key URI (SHA-1, 6 digits, 30 seconds) the QR code holds.',
  })
  otpauth_uri: string;

  @ApiProperty({
    example: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 37 37" shape-rendering="crispEdges">…</svg>',
    description:
      'The otpauth_uri as a QR code, an SVG document (no script, no external reference) to show as an image.',
  })
  qr_svg: string;
}

export class TotpConfirmDto {
  @TotpCodeField()
  code: string;
}

export class RecoveryCodesDto {
  @ApiProperty({
    type: [String],
    example: ['7kq2-mxz9-4hpt', 'c8vw-2rnd-ye5a'],
    description:
      'Ten single-use recovery codes (xxxx-xxxx-xxxx; case, spaces and hyphens are ignored when typed). Shown this once: only their keyed hashes are kept. Each signs in once in place of a code from the app (POST /login/second_factor `recovery_code`).',
  })
  recovery_codes: string[];
}

export class OtherSessionsDto {
  @ApiProperty({
    example: 2,
    description:
      "The account's other active sessions (not this one). The dashboard offers to end them (DELETE /active_sessions), since they were made before this change.",
  })
  other_sessions: number;
}

export class TotpConfirmResponseDto extends RecoveryCodesDto {
  @ApiProperty({
    example: 2,
    description:
      "The account's other active sessions, for the dashboard's offer to end them (DELETE /active_sessions).",
  })
  other_sessions: number;
}

export class TotpStatusDto {
  @ApiProperty({
    example: true,
    description:
      "Whether the account's sign-ins ask for a code from an authenticator app (confirmed; a setup not yet confirmed is not on).",
  })
  enabled: boolean;
}
