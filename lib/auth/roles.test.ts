import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasRole, ROLES } from './roles';

describe('roles', () => {
  it('each role may do what the weaker ones may, and nothing of the stronger', () => {
    assert.deepEqual(ROLES, ['viewer', 'operator', 'admin']);
    assert.equal(hasRole('viewer', 'viewer'), true);
    assert.equal(hasRole('viewer', 'operator'), false);
    assert.equal(hasRole('viewer', 'admin'), false);
    assert.equal(hasRole('operator', 'viewer'), true);
    assert.equal(hasRole('operator', 'operator'), true);
    assert.equal(hasRole('operator', 'admin'), false);
    assert.equal(hasRole('admin', 'operator'), true);
    assert.equal(hasRole('admin', 'admin'), true);
  });
});
