import { describe, expect, it } from 'vitest';
import { parseMediaType } from '../../src/domain/media-type.js';
import { choosePublishMode } from '../../src/domain/publish-mode.js';

const mode = (contentType: string | undefined, hasCeHeaders: boolean) =>
  choosePublishMode(parseMediaType(contentType), hasCeHeaders);

describe('choosePublishMode', () => {
  it.each([false, true])('reads application/cloudevents+json as structured (ce- headers: %s)', (ce) => {
    expect(mode('application/cloudevents+json', ce)).toBe('structured');
  });

  it.each([false, true])('reads application/cloudevents-batch+json as a batch (ce- headers: %s)', (ce) => {
    expect(mode('application/cloudevents-batch+json', ce)).toBe('batch');
  });

  it('reads plain application/json without ce- headers as a structured event, as Altinn clients send it', () => {
    expect(mode('application/json', false)).toBe('structured');
  });

  it.each(['application/json', 'text/plain', 'application/octet-stream', 'application/xml'])(
    'reads %s with ce- headers as binary',
    (contentType) => {
      expect(mode(contentType, true)).toBe('binary');
    },
  );

  it('reads a request with ce- headers and no Content-Type as binary', () => {
    expect(mode(undefined, true)).toBe('binary');
  });

  it('matches media types case-insensitively and ignores parameters', () => {
    expect(mode('Application/CloudEvents+JSON; Charset="UTF-8"', false)).toBe('structured');
    expect(mode('APPLICATION/CLOUDEVENTS-BATCH+JSON;charset=utf8', false)).toBe('batch');
    expect(mode('application/json; charset=utf-8; foo=bar', false)).toBe('structured');
  });

  it.each([
    'application/cloudevents+json; charset=iso-8859-1',
    'application/cloudevents-batch+json; charset=utf-16',
    'application/json; charset=latin1',
  ])("refuses the JSON modes in a charset other than UTF-8: '%s'", (contentType) => {
    expect(mode(contentType, false)).toBeUndefined();
  });

  it('refuses a CloudEvents media type in another charset even when ce- headers come along', () => {
    expect(mode('application/cloudevents+json; charset=utf-16', true)).toBeUndefined();
  });

  it.each([undefined, 'text/plain', 'application/xml', 'multipart/form-data', 'not a media type'])(
    'refuses %s without ce- headers',
    (contentType) => {
      expect(mode(contentType, false)).toBeUndefined();
    },
  );
});
