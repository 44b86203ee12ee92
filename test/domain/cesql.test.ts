import { describe, expect, it } from 'vitest';
import { type CesqlEvent, cesqlLimits, compileCesql } from '../../src/domain/cesql/index.js';
import { seededRandom } from '../support/random.js';

const event: CesqlEvent = {
  specversion: '1.0',
  id: 'e1',
  source: 'https://x.example/apps/1',
  type: 'no.altinn.thing.created',
  resource: 'urn:altinn:resource:thing',
  subject: '/party/1',
  hop: '5',
  count: 12,
  big: 3_000_000_000,
  ratio: 1.5,
  flag: true,
  data: { a: 1 },
};

function evaluate(expression: string, on: CesqlEvent = event) {
  const compiled = compileCesql(expression);
  if (!compiled.ok) throw new Error(`does not compile: ${compiled.error.message}`);
  const { result, errors } = compiled.expression.evaluate(on);
  return { result, kinds: errors.map((e) => e.kind), messages: errors.map((e) => e.message) };
}

function parseError(expression: string) {
  const compiled = compileCesql(expression);
  if (compiled.ok) throw new Error(`compiles: ${expression}`);
  return compiled.error;
}

describe('compiling CESQL', () => {
  it('says where a parse error is and what was expected', () => {
    expect(parseError('ABC(')).toEqual({
      kind: 'parse',
      message: 'Expected an expression in the arguments of ABC but found the end of the expression.',
      offset: 4,
      line: 1,
      column: 5,
    });
    expect(parseError('x LIKE 123')).toMatchObject({
      offset: 7,
      message: 'Expected a string literal (the LIKE pattern) but found the integer 123.',
    });
    expect(parseError("type = 'a'\nAND (subject = ")).toMatchObject({ line: 2, column: 16, offset: 26 });
    expect(parseError("'😀' = 'x' AND")).toMatchObject({ offset: 13, column: 14 });
    expect(parseError("'never closed")).toMatchObject({ offset: 0, message: expect.stringContaining('never closed') });
    expect(parseError('a ! b')).toMatchObject({ offset: 2, message: expect.stringContaining("did you mean '!='") });
    expect(parseError('')).toMatchObject({ offset: 0, message: 'Expected an expression but found the end of the expression.' });
    expect(parseError('subject subject')).toMatchObject({ offset: 8, message: expect.stringContaining('Expected an operator or the end') });
    expect(parseError('x NOT y').message).toContain('found the keyword NOT');
    expect(parseError('x IN ()').message).toContain('Expected an expression in the IN set');
    expect(parseError('my_attr = 1').message).toContain('names of attributes are letters and digits only');
    expect(parseError('f1(2)').message).toContain('is not a function name');
    expect(parseError('EXISTS 12x(').message).toContain('Expected an operator or the end');
    expect(parseError('+x').message).toContain('Expected digits after the sign');
  });

  it('takes 32-bit integer literals only', () => {
    expect(evaluate('-2147483648').result).toBe(-2147483648);
    expect(evaluate('+2147483647').result).toBe(2147483647);
    expect(parseError('2147483648')).toMatchObject({ offset: 0, message: expect.stringContaining('outside the 32-bit range') });
    expect(parseError('1 + -2147483649')).toMatchObject({ offset: 4 });
  });

  it(`refuses expressions over ${cesqlLimits.expressionBytes} bytes and nested over ${cesqlLimits.nestingDepth} levels`, () => {
    const longest = `subject = '${'x'.repeat(cesqlLimits.expressionBytes - 12)}'`;
    expect(Buffer.byteLength(longest)).toBe(cesqlLimits.expressionBytes);
    expect(compileCesql(longest).ok).toBe(true);
    expect(parseError(`${longest} `).message).toBe(
      `The expression is ${cesqlLimits.expressionBytes + 1} bytes of UTF-8; at most ${cesqlLimits.expressionBytes} are allowed.`,
    );
    const nested = (depth: number) => `${'('.repeat(depth)}1${')'.repeat(depth)}`;
    expect(evaluate(nested(cesqlLimits.nestingDepth)).result).toBe(1);
    expect(parseError(nested(cesqlLimits.nestingDepth + 1))).toMatchObject({
      offset: cesqlLimits.nestingDepth,
      message: expect.stringContaining(`deeper than ${cesqlLimits.nestingDepth} levels`),
    });
    expect(parseError(`${'NOT '.repeat(cesqlLimits.nestingDepth + 1)}TRUE`).message).toContain('deeper than');
    expect(parseError(`${'LENGTH('.repeat(cesqlLimits.nestingDepth + 1)}'a'${')'.repeat(cesqlLimits.nestingDepth + 1)}`).message).toContain('deeper than');
  });

  it('evaluates the longest chain of operators an expression can hold without exhausting the stack', () => {
    const chain = Array.from({ length: cesqlLimits.expressionBytes / 2 }, () => '1').join('+');
    expect(evaluate(chain).result).toBe(cesqlLimits.expressionBytes / 2);
    const ors = Array.from({ length: 400 }, (_, i) => `id = 'x${i}'`).join(' OR ').slice(0, cesqlLimits.expressionBytes - 20);
    expect(evaluate(`${ors.slice(0, ors.lastIndexOf(' OR '))} OR id = 'e1'`).result).toBe(true);
  });
});

describe('evaluating CESQL', () => {
  it('groups AND, OR and XOR from the left at one level, as §3.6 orders them', () => {
    expect(evaluate('TRUE OR FALSE AND FALSE').result).toBe(false);
    expect(evaluate('TRUE OR (FALSE AND FALSE)').result).toBe(true);
    expect(evaluate('FALSE AND FALSE OR TRUE').result).toBe(true);
    expect(evaluate('TRUE XOR TRUE OR TRUE').result).toBe(true);
  });

  it('binds unary operators tighter than comparisons, and arithmetic as usual', () => {
    expect(evaluate('NOT TRUE = FALSE').result).toBe(true);
    expect(evaluate('1 + 2 * 3').result).toBe(7);
    expect(evaluate('10 - 2 - 3').result).toBe(5);
    expect(evaluate('5 -3').result).toBe(2);
    expect(evaluate('- 3 - -3').result).toBe(0);
    expect(evaluate('7 / 2 * 2').result).toBe(6);
    expect(evaluate("'ab' LIKE 'a%' = TRUE").result).toBe(true);
  });

  it('keeps integers to 32 bits: an overflow is a math error and the nearest integer in range', () => {
    expect(evaluate('2147483647 + 1')).toMatchObject({ result: 2147483647, kinds: ['math'] });
    expect(evaluate('-2147483648 - 1')).toMatchObject({ result: -2147483648, kinds: ['math'] });
    expect(evaluate('65536 * 65536')).toMatchObject({ result: 2147483647, kinds: ['math'] });
    expect(evaluate('-2147483648 / -1')).toMatchObject({ result: 2147483647, kinds: ['math'] });
    expect(evaluate('-(-2147483648)')).toMatchObject({ result: 2147483647, kinds: ['math'] });
    expect(evaluate('-2147483648 % -1')).toMatchObject({ result: 0, kinds: [] });
    expect(evaluate('-7 / 2').result).toBe(-3);
    expect(evaluate('-7 % 3').result).toBe(-1);
    expect(evaluate('7 % -3').result).toBe(1);
    expect(Object.is(evaluate('-6 % 3').result, 0)).toBe(true);
    expect(Object.is(evaluate('0 * -1').result, 0)).toBe(true);
  });

  it('casts as §3.7 says, and refuses an integer where a boolean is implied', () => {
    expect(evaluate("'abc' + 1")).toMatchObject({ result: 1, kinds: ['cast'] });
    expect(evaluate("'+007' = 7")).toMatchObject({ result: true, kinds: [] });
    expect(evaluate("' 7' = 7")).toMatchObject({ result: false, kinds: ['cast'] });
    expect(evaluate("'99999999999' = 1")).toMatchObject({ result: false, kinds: ['cast'] });
    expect(evaluate('TRUE = 1')).toMatchObject({ result: true, kinds: [] });
    expect(evaluate('1 = TRUE')).toMatchObject({ result: false, kinds: ['cast'] });
    expect(evaluate('1 AND TRUE')).toMatchObject({ result: false, kinds: ['cast'] });
    expect(evaluate('BOOL(1) AND TRUE')).toMatchObject({ result: true, kinds: [] });
    expect(evaluate("'2' < '10'")).toMatchObject({ result: true, kinds: [] });
    expect(evaluate("'b' < 'a'")).toMatchObject({ result: false, kinds: ['cast', 'cast'] });
  });

  it('gives an operator whose operand erred its zero value, and collects every error', () => {
    expect(evaluate('NOT (1 / 0 = 0)')).toMatchObject({ result: false, kinds: ['math'] });
    expect(evaluate('LENGTH(INT(\'x\'))')).toMatchObject({ result: 0, kinds: ['cast'] });
    expect(evaluate('(1 / 0) + nothere')).toMatchObject({ result: 0, kinds: ['math', 'missingAttribute'] });
    expect(evaluate('nothere XOR TRUE')).toMatchObject({ result: false, kinds: ['missingAttribute'] });
    expect(evaluate("'a' IN ('b', nothere)")).toMatchObject({ result: false, kinds: ['missingAttribute'] });
    expect(evaluate("'a' NOT IN ('b', nothere)")).toMatchObject({ result: false, kinds: ['missingAttribute'] });
    expect(evaluate('nothere').messages).toEqual(["The event has no attribute 'nothere'."]);
  });

  it('reads context attributes and extensions by name in any case, and nothing else', () => {
    expect(evaluate('ID').result).toBe('e1');
    expect(evaluate('count + 1').result).toBe(13);
    expect(evaluate('hop < count').result).toBe(true);
    expect(evaluate('flag').result).toBe(true);
    // §3.2: values that are not CESQL integers are strings.
    expect(evaluate('big').result).toBe('3000000000');
    expect(evaluate('ratio').result).toBe('1.5');
    expect(evaluate('EXISTS data')).toEqual({ result: false, kinds: [], messages: [] });
    expect(evaluate('data')).toMatchObject({ result: false, kinds: ['missingAttribute'] });
    expect(evaluate('EXISTS constructor').result).toBe(false);
    expect(evaluate('constructor')).toMatchObject({ result: false, kinds: ['missingAttribute'] });
    expect(evaluate('EXISTS subject', { ...event, subject: null }).result).toBe(false);
  });

  it('dispatches functions by name and number of arguments, and says which is missing', () => {
    expect(evaluate('concat_ws(\'-\', 1, TRUE)').result).toBe('1-true');
    expect(evaluate('NOPE(1)')).toMatchObject({ result: false, messages: ['There is no function NOPE.'] });
    expect(evaluate('LENGTH()')).toMatchObject({ result: false, messages: ['LENGTH does not take 0 arguments.'] });
    expect(evaluate('SUBSTRING(\'abc\', 1, 2, 3)').kinds).toEqual(['missingFunction']);
    expect(evaluate('IS_INT(hop) AND IS_INT(count) AND NOT IS_INT(\'x\') AND IS_BOOL(\'FALSE\') AND IS_BOOL(flag) AND NOT IS_BOOL(1)').result).toBe(true);
    expect(evaluate('IS_STRING(\'a\')').kinds).toEqual(['missingFunction']);
  });

  it('counts characters, not UTF-16 units, and trims Unicode white space only', () => {
    expect(evaluate("LENGTH('a😀b')").result).toBe(3);
    expect(evaluate("SUBSTRING('a😀b', 2, 1)").result).toBe('😀');
    expect(evaluate("SUBSTRING('a😀b', -1)").result).toBe('b');
    expect(evaluate("LEFT('😀😀😀', 2)").result).toBe('😀😀');
    expect(evaluate("RIGHT('😀😀😀', 1)").result).toBe('😀');
    expect(evaluate("TRIM('\u0085\u3000 a \u2003')").result).toBe('a');
    expect(evaluate("TRIM('\uFEFFa')").result).toBe('\uFEFFa');
    expect(evaluate("UPPER('straße')").result).toBe('STRASSE');
    expect(evaluate("SUBSTRING('abc', 1, -1)")).toMatchObject({ result: '', kinds: ['functionEvaluation'] });
    expect(evaluate("SUBSTRING('abc', 3)").result).toBe('c');
    expect(evaluate("SUBSTRING('abc', -3, 100)").result).toBe('abc');
  });

  it(`refuses to build strings over ${cesqlLimits.builtString} characters`, () => {
    const long = { ...event, long: 'x'.repeat(4096) };
    expect(evaluate('LENGTH(CONCAT(long, long, long, long))', long)).toMatchObject({ result: 16_384, kinds: [] });
    expect(evaluate("CONCAT(long, long, long, long, 'x')", long)).toMatchObject({ result: '', kinds: ['functionEvaluation'] });
  });

  it(`stops an evaluation that examines more than ${cesqlLimits.workPerEvaluation} characters, with one generic error`, () => {
    const long = { ...event, long: '😀'.repeat(2048) };
    // Each LENGTH reads 4,096 UTF-16 units: so many fit the budget, one more does not.
    const fit = cesqlLimits.workPerEvaluation / 4096;
    const sum = (n: number) => Array.from({ length: n }, () => 'LENGTH(long)').join(' + ');
    expect(evaluate(sum(fit), long)).toMatchObject({ result: fit * 2048, kinds: [] });
    expect(evaluate(sum(fit + 1), long)).toMatchObject({ result: 0, kinds: ['generic'] });
    expect(evaluate(`TRUE OR ${sum(fit + 1)} = 0`, long)).toMatchObject({ result: true, kinds: [] });
    const comparisons = Array.from({ length: fit + 1 }, () => 'long = long').join(' AND ');
    expect(evaluate(comparisons, long)).toMatchObject({ result: false, kinds: ['generic'] });
    const likes = (n: number) => `${Array.from({ length: n }, () => "long LIKE '%x%'").join(' OR ')} OR TRUE`;
    expect(evaluate(likes(fit), long)).toMatchObject({ result: true, kinds: [] });
    expect(evaluate(likes(fit + 1), long)).toMatchObject({ result: false, kinds: ['generic'] });
  });

  it('matches an event only when the result is true with no error (§1.2)', () => {
    const match = (expression: string, on: CesqlEvent = event) => {
      const compiled = compileCesql(expression);
      return compiled.ok && compiled.expression.matches(on);
    };
    expect(match("type LIKE 'no.altinn.%' AND EXISTS subject")).toBe(true);
    expect(match("'true'")).toBe(false);
    expect(match('1')).toBe(false);
    expect(match('flag')).toBe(true);
    expect(match('TRUE OR nothere')).toBe(true);
    expect(match('nothere OR TRUE')).toBe(false);
    expect(match('NOT 10')).toBe(false);
    expect(match('EXISTS subject', { ...event, subject: undefined })).toBe(false);
  });

  it('compiles once and evaluates any number of events with the same result as a fresh compile', () => {
    const compiled = compileCesql("subject LIKE '/party/%' AND INT(SUBSTRING(subject, 8)) % 2 = 0");
    if (!compiled.ok) throw new Error(compiled.error.message);
    expect(compiled.expression.resultType).toBe('Boolean');
    for (let party = 0; party < 100; party += 1) {
      const on = { ...event, subject: `/party/${party}` };
      expect(compiled.expression.matches(on)).toBe(party % 2 === 0);
    }
    expect(compiled.expression.evaluate({ ...event, subject: '/org/1' })).toEqual({ result: false, errors: [] });
  });
});

describe('CESQL on arbitrary input', () => {
  it('never throws: 20,000 random token soups either compile and evaluate, or are parse errors inside the text', () => {
    const random = seededRandom(1515);
    const tokens = [
      'AND', 'OR', 'XOR', 'NOT', 'LIKE', 'IN', 'EXISTS', 'TRUE', 'false', '(', ')', ',', '=', '!=', '<>', '<', '<=',
      '>', '>=', '+', '-', '*', '/', '%', '0', '7', '2147483647', '-2147483648', "'a%_\\'", '"b"', "'😀'", 'subject',
      'count', 'nothere', 'LENGTH', 'CONCAT', 'CONCAT_WS', 'SUBSTRING', 'LEFT', 'ABS', 'INT', 'BOOL', 'STRING',
      'IS_INT', 'NOPE', '!', '\n', '"unclosed', '_x', '9z',
    ];
    for (let i = 0; i < 20_000; i += 1) {
      const text = Array.from({ length: 1 + Math.floor(random.next() * 12) }, () => random.pick(tokens)).join(
        random.chance(0.8) ? ' ' : '',
      );
      const compiled = compileCesql(text);
      if (compiled.ok) {
        const { result, errors } = compiled.expression.evaluate(event);
        expect(['boolean', 'number', 'string']).toContain(typeof result);
        if (typeof result === 'number') expect(Number.isInteger(result) && result >= -(2 ** 31) && result < 2 ** 31).toBe(true);
        expect(compiled.expression.matches(event)).toBe(result === true && errors.length === 0);
      } else {
        expect(compiled.error.offset, text).toBeLessThanOrEqual(Array.from(text).length);
        expect(compiled.error.message.length).toBeGreaterThan(10);
      }
    }
  });
});
