import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  claimAt,
  displayNameFromClaims,
  overlappingValues,
  parseClaimValues,
  roleFromClaims,
  usernameFromClaims,
} from './oidc-claims';

const mapping = { admin: ['rx-admins'], operator: ['rx-pharmacists', 'rx-ops'], viewer: ['staff'] };

describe('single sign-on claims', () => {
  test('each role is reached by its values; the strongest mapped role wins', () => {
    assert.equal(roleFromClaims({ groups: ['rx-admins'] }, 'groups', mapping), 'admin');
    assert.equal(roleFromClaims({ groups: ['x', 'rx-ops'] }, 'groups', mapping), 'operator');
    assert.equal(roleFromClaims({ groups: 'staff' }, 'groups', mapping), 'viewer');
    assert.equal(roleFromClaims({ groups: ['staff', 'rx-admins'] }, 'groups', mapping), 'admin');
  });

  test('no mapped value, a missing claim or a claim of another type maps to no role', () => {
    for (const claims of [
      { groups: ['other'] },
      {},
      { groups: 7 },
      { groups: [{ n: 'rx-admins' }] },
    ])
      assert.equal(roleFromClaims(claims, 'groups', mapping), null, JSON.stringify(claims));
    assert.equal(roleFromClaims({ groups: ['RX-ADMINS'] }, 'groups', mapping), null, 'case kept');
  });

  test('a dotted claim name reaches into objects; a claim named with dots is tried whole first', () => {
    const keycloak = { realm_access: { roles: ['rx-ops'] } };
    assert.equal(roleFromClaims(keycloak, 'realm_access.roles', mapping), 'operator');
    assert.deepEqual(claimAt({ 'https://x.example/roles': ['a'] }, 'https://x.example/roles'), [
      'a',
    ]);
    assert.equal(claimAt({ a: ['b'] }, 'a.b'), undefined);
  });

  test('claim values: comma-separated, trimmed, repeats and empties dropped; overlaps found', () => {
    assert.deepEqual(parseClaimValues(' a, b,,a ,'), ['a', 'b']);
    assert.deepEqual(parseClaimValues(undefined), []);
    assert.deepEqual(overlappingValues({ admin: ['a'], operator: ['b'], viewer: ['a'] }), ['a']);
    assert.deepEqual(overlappingValues(mapping), []);
  });

  test('the username is the claim lowercased, or null when it is not a valid username', () => {
    assert.equal(
      usernameFromClaims({ preferred_username: 'Alice.B' }, 'preferred_username'),
      'alice.b',
    );
    assert.equal(usernameFromClaims({ email: 'Nurse@Rx.Example' }, 'email'), 'nurse@rx.example');
    for (const value of [undefined, 'api', 'has space', 'x', 42])
      assert.equal(usernameFromClaims({ preferred_username: value }, 'preferred_username'), null);
  });

  test('display name: name, else given and family names, else none', () => {
    assert.equal(displayNameFromClaims({ name: ' Alice Apotheker ' }), 'Alice Apotheker');
    assert.equal(displayNameFromClaims({ given_name: 'Bo', family_name: 'Berg' }), 'Bo Berg');
    assert.equal(displayNameFromClaims({}), null);
    assert.equal(displayNameFromClaims({ name: 'x'.repeat(300) })?.length, 100);
  });
});
