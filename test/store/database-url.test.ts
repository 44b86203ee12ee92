import { describe, expect, it } from 'vitest';
import { databaseHosts } from '../../src/store/database-url.js';

describe('databaseHosts: the servers of HERALD_DATABASE', () => {
  it('keeps a single host as it is, checked for writes only when target_session_attrs asks', () => {
    expect(databaseHosts('postgres://herald:pw@db:6432/herald?sslmode=require')).toEqual({
      hosts: [{ host: 'db', port: 6432, address: 'db:6432', url: 'postgres://herald:pw@db:6432/herald?sslmode=require' }],
      writableOnly: false,
    });
    expect(databaseHosts('postgres://db/herald?target_session_attrs=read-write').writableOnly).toBe(true);
    expect(databaseHosts('postgres://db/herald?target_session_attrs=any').writableOnly).toBe(false);
  });

  it('splits libpq\'s multi-host form into one URL per host, in order, without target_session_attrs', () => {
    const { hosts, writableOnly } = databaseHosts(
      'postgresql://herald:p%40ss@db1,db2:5433,[::1]:5434/herald?target_session_attrs=primary&application_name=herald',
    );
    expect(writableOnly).toBe(true);
    expect(hosts.map((h) => [h.host, h.port, h.address])).toEqual([
      ['db1', 5432, 'db1:5432'],
      ['db2', 5433, 'db2:5433'],
      ['::1', 5434, '[::1]:5434'],
    ]);
    expect(hosts.map((h) => h.url)).toEqual([
      'postgresql://herald:p%40ss@db1/herald?application_name=herald',
      'postgresql://herald:p%40ss@db2:5433/herald?application_name=herald',
      'postgresql://herald:p%40ss@[::1]:5434/herald?application_name=herald',
    ]);
  });

  it('looks for the writable host among several even when the URL does not ask', () => {
    expect(databaseHosts('postgres://db1,db2/herald').writableOnly).toBe(true);
  });

  it.each([
    ['postgres://db1,,db2/herald', "HERALD_DATABASE names an empty host ('db1,,db2')."],
    ['postgres://db1:70000,db2/herald', 'HERALD_DATABASE is not a valid postgres:// URL.'],
    ['postgres://db1,db2/herald?target_session_attrs=standby', 'HERALD_DATABASE asks for target_session_attrs=standby: Herald writes, so it takes read-write (or primary, or any for a single host).'],
    ['postgres://db1,db2/herald?target_session_attrs=any', 'HERALD_DATABASE lists several hosts with target_session_attrs=any: Herald must write, so ask for read-write.'],
  ])('refuses %s', (url, message) => {
    expect(() => databaseHosts(url)).toThrow(message);
  });
});
