import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeReturnPath } from './return-path';

describe('return path after sign-in', () => {
  it('keeps paths of this app, with their query and hash', () => {
    assert.equal(safeReturnPath('/sagas'), '/sagas');
    assert.equal(safeReturnPath('/sagas?state=COMPLETED#top'), '/sagas?state=COMPLETED#top');
    assert.equal(safeReturnPath('/sagas/../audit'), '/audit');
  });

  it('refuses everything that can leave the site', () => {
    for (const hostile of [
      '//evil.example',
      '/\\evil.example', // next=/%5Cevil.example, decoded
      '\\\\evil.example',
      '/\t/evil.example', // next=/%09/x, decoded
      '/\n/evil.example',
      '/ /evil.example',
      'https://evil.example/',
      'javascript:alert(1)',
      'evil.example',
      '',
      '/%2F/evil.example/..',
    ]) {
      const path = safeReturnPath(hostile);
      assert.ok(path === '/' || new URL(path, 'http://app.test').host === 'app.test', hostile);
      assert.ok(!path.startsWith('//'), hostile);
    }
    assert.equal(safeReturnPath('/\\evil.example'), '/');
    assert.equal(safeReturnPath('/\t/x'), '/');
    assert.equal(safeReturnPath('//x'), '/');
    assert.equal(safeReturnPath(undefined), '/');
    assert.equal(safeReturnPath(['/a']), '/');
  });
});
