import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StuckfailedError } from '../errors.js';
import { apiTokenName, bearerToken, checkWebhookToken, parseApiTokens } from './tokens.js';

const A = 'a'.repeat(20);
const B = 'b'.repeat(20);

describe('tokens', () => {
  it('reads name:token lines, skipping comments and blank lines', () => {
    const tokens = parseApiTokens(`# approvers\nalice:${A}\n\n  bob : ${B}  \n`, 'tokens');
    assert.deepEqual(tokens, [
      { name: 'alice', token: A },
      { name: 'bob', token: B },
    ]);
    assert.equal(apiTokenName(`Bearer ${B}`, tokens), 'bob');
    assert.equal(apiTokenName(`Bearer ${B}x`, tokens), undefined);
    assert.equal(apiTokenName(undefined, tokens), undefined);
    assert.equal(apiTokenName(`Basic ${A}`, tokens), undefined);
  });

  it('refuses short tokens, duplicates and lines without a name, naming the line', () => {
    const message = (text: string) => {
      try {
        parseApiTokens(text, 'tokens');
      } catch (error) {
        assert.ok(error instanceof StuckfailedError);
        return error.message;
      }
      assert.fail('expected an error');
    };
    assert.match(message('alice:short'), /tokens:1: the token is 5 characters/);
    assert.match(message(`alice:${A}\nalice:${B}`), /tokens:2: the name alice is used twice/);
    assert.match(message(`alice:${A}\nbob:${A}`), /tokens:2: this token is also given/);
    assert.match(message(`${A}`), /tokens:1: expected name:token/);
    assert.match(message('# nothing\n'), /no name:token line/);
  });

  it('checks the webhook bearer token', () => {
    assert.equal(bearerToken(`Bearer ${A}`), A);
    assert.equal(checkWebhookToken(`Bearer ${A}`, A), true);
    assert.equal(checkWebhookToken(`bearer ${A}`, A), true);
    assert.equal(checkWebhookToken(`Bearer ${A.slice(1)}`, A), false);
    assert.equal(checkWebhookToken(A, A), false);
    assert.equal(checkWebhookToken(undefined, A), false);
  });
});
