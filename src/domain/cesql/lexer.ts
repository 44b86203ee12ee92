/**
 * Splits an expression into tokens (CESQL 1.0 §2). Keywords are recognised by the parser, case-insensitively,
 * among the words; positions are indexes into the expression (UTF-16 code units, converted for messages).
 */

export type TokenKind =
  | 'word' // letters, digits and '_': a keyword, an attribute, a function name or an integer
  | 'string'
  | 'operator'
  | '('
  | ')'
  | ','
  | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** The text as written; for a string, its value with the quote escapes resolved. */
  readonly text: string;
  readonly at: number;
  /** Where the token ends: a '-' directly before an integer makes a negative literal. */
  readonly end: number;
}

export class LexError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const operators = ['!=', '<>', '<=', '>=', '=', '<', '>', '+', '-', '*', '/', '%'];
/** Space, tab, carriage return and line feed separate tokens, as in the reference grammar. */
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isWordCharacter = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_';

export function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression[i] as string;
    if (isSpace(c)) {
      i += 1;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, at: i, end: i + 1 });
      i += 1;
    } else if (c === "'" || c === '"') {
      const { value, end } = readString(expression, i);
      tokens.push({ kind: 'string', text: value, at: i, end });
      i = end;
    } else if (isWordCharacter(c)) {
      let end = i + 1;
      while (end < expression.length && isWordCharacter(expression[end] as string)) end += 1;
      tokens.push({ kind: 'word', text: expression.slice(i, end), at: i, end });
      i = end;
    } else {
      const operator = operators.find((o) => expression.startsWith(o, i));
      if (!operator) {
        const shown = c === '!' ? "'!' (did you mean '!='?)" : `'${String.fromCodePoint(expression.codePointAt(i) ?? 0)}'`;
        throw new LexError(`Unexpected character ${shown}: expected an operator, a name, a number, a string or a parenthesis.`, i);
      }
      tokens.push({ kind: 'operator', text: operator, at: i, end: i + operator.length });
      i += operator.length;
    }
  }
  tokens.push({ kind: 'end', text: '', at: expression.length, end: expression.length });
  return tokens;
}

/**
 * A string literal from its opening quote (§2.2). A backslash before the enclosing quote puts the quote in the
 * string; so does the quote written twice, as SQL does. Every other backslash stays, so that LIKE patterns
 * keep their escapes (`'a\_b'`).
 */
function readString(expression: string, start: number): { value: string; end: number } {
  const quote = expression[start] as string;
  let value = '';
  let i = start + 1;
  while (i < expression.length) {
    const c = expression[i] as string;
    if (c === '\\' && i + 1 < expression.length) {
      const next = expression[i + 1] as string;
      value += next === quote ? quote : c + next;
      i += 2;
    } else if (c === quote) {
      if (expression[i + 1] !== quote) return { value, end: i + 1 };
      value += quote;
      i += 2;
    } else {
      value += c;
      i += 1;
    }
  }
  throw new LexError(`This string is never closed: expected a closing ${quote} before the end of the expression.`, start);
}
