import { describe, expect, it } from 'vitest';
import { parseByteSize } from '../../src/config/byte-size.js';

describe('parseByteSize', () => {
  it.each([
    ['262144', 262_144],
    ['0', 0],
    ['10b', 10],
    ['256KiB', 262_144],
    ['1MiB', 1_048_576],
    ['1kb', 1_000],
    ['2MB', 2_000_000],
    ['256kib', 262_144],
    ['1MIB', 1_048_576],
    ['10 KiB', 10_240],
    [' 5KiB ', 5_120],
  ])("reads '%s' as %i bytes", (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['', 'KiB', '1.5MiB', '-1KiB', '1GiB', '1 K', '1KiBs', '0x10', '1e3', 'one MiB'])(
    "refuses '%s'",
    (text) => {
      expect(parseByteSize(text)).toBeUndefined();
    },
  );
});
