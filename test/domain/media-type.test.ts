import { describe, expect, it } from 'vitest';
import { isJsonMediaType, isTextMediaType, isUtf8, parseMediaType } from '../../src/domain/media-type.js';

describe('parseMediaType', () => {
  it('lower-cases the type and the charset and drops other parameters', () => {
    expect(parseMediaType('Application/CloudEvents+JSON; Charset=UTF-8; foo=Bar')).toEqual({
      essence: 'application/cloudevents+json',
      charset: 'utf-8',
    });
  });

  it('unquotes a quoted charset', () => {
    expect(parseMediaType('text/plain; charset="ISO-8859-1"')?.charset).toBe('iso-8859-1');
  });

  it('trims whitespace around the type and the parameters', () => {
    expect(parseMediaType('  application/json  ;  charset = utf-8 ')).toEqual({
      essence: 'application/json',
      charset: 'utf-8',
    });
  });

  it('leaves the charset undefined when none is given', () => {
    expect(parseMediaType('application/json')).toEqual({ essence: 'application/json', charset: undefined });
    expect(parseMediaType('application/json; foo=bar')?.charset).toBeUndefined();
  });

  it.each([undefined, '', 'json', 'application/', '/json', 'application json', 'a/b/c', 'text/pl ain'])(
    'refuses %j as no media type',
    (header) => {
      expect(parseMediaType(header)).toBeUndefined();
    },
  );
});

describe('isJsonMediaType', () => {
  it.each(['application/json', 'application/cloudevents+json', 'application/vnd.api+json'])(
    'reads %s as JSON',
    (essence) => {
      expect(isJsonMediaType(essence)).toBe(true);
    },
  );

  it.each(['text/json', 'application/jsonx', 'application/json-seq', 'application/xml', 'text/plain'])(
    'does not read %s as JSON',
    (essence) => {
      expect(isJsonMediaType(essence)).toBe(false);
    },
  );
});

describe('isTextMediaType', () => {
  it('reads every text/ type as text and nothing else', () => {
    expect(isTextMediaType('text/plain')).toBe(true);
    expect(isTextMediaType('text/csv')).toBe(true);
    expect(isTextMediaType('application/xml')).toBe(false);
    expect(isTextMediaType('application/text')).toBe(false);
  });
});

describe('isUtf8', () => {
  it.each([undefined, 'utf-8', 'utf8'])('takes charset %s as UTF-8', (charset) => {
    expect(isUtf8({ essence: 'application/json', charset })).toBe(true);
  });

  it.each(['iso-8859-1', 'utf-16', 'us-ascii', ''])("does not take charset '%s' as UTF-8", (charset) => {
    expect(isUtf8({ essence: 'application/json', charset })).toBe(false);
  });
});
