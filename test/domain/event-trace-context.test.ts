import { describe, expect, it } from 'vitest';
import { traceAttributesOf, withTraceAttributes } from '../../src/domain/event-trace-context.js';

const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceAttributesOf', () => {
  it('answers undefined for an event without the extension', () => {
    expect(traceAttributesOf('{"id":"1","source":"s"}')).toBeUndefined();
  });

  it('reads the top-level attributes, whatever their JSON type', () => {
    expect(traceAttributesOf(`{"id":"1","traceparent":"${traceparent}","tracestate":"a=b"}`)).toEqual({ traceparent, tracestate: 'a=b' });
    expect(traceAttributesOf('{"id":"1","traceparent":42}')).toEqual({ traceparent: 42, tracestate: undefined });
  });

  it('is not fooled by the names inside data', () => {
    expect(traceAttributesOf(`{"id":"1","data":{"traceparent":"${traceparent}"}}`)).toBeUndefined();
  });
});

describe('withTraceAttributes', () => {
  it('adds traceparent, and tracestate when given, as the last attributes', () => {
    expect(withTraceAttributes('{"id":"1"}', traceparent)).toBe(`{"id":"1","traceparent":"${traceparent}"}`);
    const added = withTraceAttributes('{"id":"1","data":{"x":[1]}}', traceparent, 'a=b,c="d"');
    expect(JSON.parse(added)).toEqual({ id: '1', data: { x: [1] }, traceparent, tracestate: 'a=b,c="d"' });
  });
});
