// Bearer tokens: the webhook's (one token, the file Alertmanager's credentials_file also reads) and the API's (named
// tokens, so the audit trail says who approved without ever holding a token).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { StuckfailedError } from '../errors.js';

/** Shorter tokens are guessable; the service refuses to start with one. */
export const MIN_TOKEN_LENGTH = 16;

export interface NamedToken {
  name: string;
  token: string;
}

/**
 * Hashing both sides first gives equal-length buffers, so the comparison takes the same time whatever the
 * candidate's length and content (timingSafeEqual alone throws on different lengths, which leaks the length).
 */
function sameToken(candidate: string, expected: string): boolean {
  const a = createHash('sha256').update(candidate).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}

export function checkWebhookToken(header: string | undefined, expected: string): boolean {
  const token = bearerToken(header);
  return token !== undefined && sameToken(token, expected);
}

/** The name of the API token in the header, or undefined. Every token is compared, so timing says nothing. */
export function apiTokenName(header: string | undefined, tokens: readonly NamedToken[]): string | undefined {
  const token = bearerToken(header);
  if (token === undefined) return undefined;
  let found: string | undefined;
  for (const entry of tokens) {
    if (sameToken(token, entry.token) && found === undefined) found = entry.name;
  }
  return found;
}

function checkToken(token: string, where: string): void {
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new StuckfailedError(
      'INPUT',
      `${where}: the token is ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} (e.g. openssl rand -hex 32)`,
    );
  }
  if (/\s/.test(token)) throw new StuckfailedError('INPUT', `${where}: a token cannot contain spaces`);
}

async function readTokenFile(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new StuckfailedError('INPUT', `cannot read ${flag} ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** --webhook-token-file: the whole file (trimmed) is the token, as Alertmanager's `credentials_file` reads it. */
export async function loadWebhookToken(file: string): Promise<string> {
  const token = (await readTokenFile(file, '--webhook-token-file')).trim();
  checkToken(token, file);
  return token;
}

/** --api-token-file: one `name:token` per line; blank lines and lines starting with # are ignored. */
export function parseApiTokens(text: string, source: string): NamedToken[] {
  const tokens: NamedToken[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${source}:${index + 1}`;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new StuckfailedError('INPUT', `${where}: expected name:token`);
    const name = line.slice(0, colon).trim();
    const token = line.slice(colon + 1).trim();
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) {
      throw new StuckfailedError('INPUT', `${where}: a token name is 1-64 of A-Z a-z 0-9 . _ @ -`);
    }
    checkToken(token, where);
    if (tokens.some((entry) => entry.name === name)) {
      throw new StuckfailedError('INPUT', `${where}: the name ${name} is used twice`);
    }
    if (tokens.some((entry) => entry.token === token)) {
      throw new StuckfailedError('INPUT', `${where}: this token is also given to another name`);
    }
    tokens.push({ name, token });
  }
  if (tokens.length === 0) throw new StuckfailedError('INPUT', `${source}: no name:token line`);
  return tokens;
}

export async function loadApiTokens(file: string): Promise<NamedToken[]> {
  return parseApiTokens(await readTokenFile(file, '--api-token-file'), file);
}
