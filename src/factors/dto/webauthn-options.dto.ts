import { ApiProperty } from '@nestjs/swagger';

/**
 * The options of a WebAuthn ceremony in WebAuthn's JSON encoding (binary values base64url): what a
 * browser passes to PublicKeyCredential.parseCreationOptionsFromJSON() /
 * parseRequestOptionsFromJSON() (or @simplewebauthn/browser's startRegistration / startAuthentication).
 */
class RelyingPartyDto {
  @ApiProperty({ example: 'Session server' }) name: string;
  @ApiProperty({ example: 'sessions.example.com', description: "PUBLIC_URL's host name." }) id: string;
}

class UserEntityDto {
  @ApiProperty({
    example: 'q3b2Yk9dQe7mX1n0R8pLzA4sT6uV2wC5yE9iH3jK1oM',
    description:
      "The account's WebAuthn user handle (base64url): 32 bytes derived from the account id under a server key, so it names no one.",
  })
  id: string;
  @ApiProperty({ example: 'ada@example.com' }) name: string;
  @ApiProperty({ example: 'Ada Lovelace' }) displayName: string;
}

class CredentialParameterDto {
  @ApiProperty({ example: -7, description: 'COSE algorithm: -8 EdDSA, -7 ES256, -257 RS256.' }) alg: number;
  @ApiProperty({ enum: ['public-key'] }) type: string;
}

class CredentialDescriptorDto {
  @ApiProperty({ example: 'l1Vb2a8mT0eJ5y0Wq9Qm2w', description: 'A credential id, base64url.' }) id: string;
  @ApiProperty({ enum: ['public-key'] }) type: string;
  @ApiProperty({ type: [String], required: false, example: ['internal', 'hybrid'] }) transports?: string[];
}

class AuthenticatorSelectionDto {
  @ApiProperty({ enum: ['required'] }) residentKey: string;
  @ApiProperty({ example: true }) requireResidentKey: boolean;
  @ApiProperty({ enum: ['preferred'] }) userVerification: string;
}

class CreationExtensionsDto {
  @ApiProperty({ example: true, description: 'Asks the browser whether a discoverable credential was made.' })
  credProps: boolean;
}

export class CreationOptionsDto {
  @ApiProperty({
    example: 'Qm9vdHN0cmFwLWNoYWxsZW5nZS0zMi1ieXRlcy0wMDA',
    description: '32 random bytes, base64url; good once, for 2 minutes.',
  })
  challenge: string;
  @ApiProperty({ type: RelyingPartyDto }) rp: RelyingPartyDto;
  @ApiProperty({ type: UserEntityDto }) user: UserEntityDto;
  @ApiProperty({ type: [CredentialParameterDto] }) pubKeyCredParams: CredentialParameterDto[];
  @ApiProperty({ example: 120000, description: 'Milliseconds: the challenge lifetime.' }) timeout: number;
  @ApiProperty({ enum: ['none'] }) attestation: string;
  @ApiProperty({
    type: [CredentialDescriptorDto],
    description: "The account's passkeys: an authenticator that holds one does not make a second.",
  })
  excludeCredentials: CredentialDescriptorDto[];
  @ApiProperty({ type: AuthenticatorSelectionDto }) authenticatorSelection: AuthenticatorSelectionDto;
  @ApiProperty({ type: CreationExtensionsDto }) extensions: CreationExtensionsDto;
  @ApiProperty({ type: [String], example: [] }) hints: string[];
}

export class RequestOptionsDto {
  @ApiProperty({ example: 'sessions.example.com' }) rpId: string;
  @ApiProperty({
    example: 'Qm9vdHN0cmFwLWNoYWxsZW5nZS0zMi1ieXRlcy0wMDA',
    description: '32 random bytes, base64url; good once, for 2 minutes.',
  })
  challenge: string;
  @ApiProperty({
    type: [CredentialDescriptorDto],
    required: false,
    description:
      "Re-authentication only: the caller's passkeys. Absent for a sign-in (discoverable credentials: the authenticator offers the accounts it holds).",
  })
  allowCredentials?: CredentialDescriptorDto[];
  @ApiProperty({ example: 120000 }) timeout: number;
  @ApiProperty({ enum: ['required'] }) userVerification: string;
}
