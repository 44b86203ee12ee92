import { cesqlLimits } from './limits.js';
import { LexError, type Token, tokenize } from './lexer.js';
import type { ArithmeticOperator, ComparisonOperator, LogicOperator, Syntax } from './syntax.js';
import { int32 } from './values.js';

/** A syntax error at an index of the expression; compile() turns it into a CesqlParseError. */
export class SyntaxFault extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const keywords = new Set(['AND', 'OR', 'XOR', 'NOT', 'LIKE', 'EXISTS', 'IN', 'TRUE', 'FALSE']);
const comparisonOperators = new Set<string>(['=', '!=', '<>', '<', '<=', '>', '>=']);
const attributeName = /^[a-z0-9]+$/;
const functionName = /^[A-Z][A-Z_]*$/;
const digitsOnly = /^[0-9]+$/;

/**
 * Parses an expression by recursive descent. Precedence follows §3.6, from loosest: AND, OR and XOR (one
 * level); comparisons; `+ -`; `* / %`; IN and LIKE; unary NOT and `-`; function calls, parentheses, EXISTS
 * and atoms. Binary operators of one level group from the left.
 * @throws SyntaxFault
 */
export function parse(expression: string): Syntax {
  let tokens: Token[];
  try {
    tokens = tokenize(expression);
  } catch (error) {
    if (error instanceof LexError) throw new SyntaxFault(error.message, error.at);
    throw error;
  }
  return new Parser(tokens).parseWhole();
}

class Parser {
  private position = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parseWhole(): Syntax {
    if (this.peek().kind === 'end') throw this.expected('an expression');
    const syntax = this.logic();
    if (this.peek().kind !== 'end') throw this.expected('an operator or the end of the expression');
    return syntax;
  }

  private logic(): Syntax {
    let left = this.comparison();
    for (let keyword = this.keyword(); keyword === 'AND' || keyword === 'OR' || keyword === 'XOR'; keyword = this.keyword()) {
      this.next();
      left = { kind: 'logic', operator: keyword as LogicOperator, left, right: this.comparison() };
    }
    return left;
  }

  private comparison(): Syntax {
    let left = this.additive();
    while (this.peek().kind === 'operator' && comparisonOperators.has(this.peek().text)) {
      const operator = this.next().text as ComparisonOperator;
      left = { kind: 'comparison', operator, left, right: this.additive() };
    }
    return left;
  }

  private additive(): Syntax {
    let left = this.multiplicative();
    while (this.isOperator('+') || this.isOperator('-')) {
      const operator = this.next().text as ArithmeticOperator;
      left = { kind: 'arithmetic', operator, left, right: this.multiplicative() };
    }
    return left;
  }

  private multiplicative(): Syntax {
    let left = this.postfix();
    while (this.isOperator('*') || this.isOperator('/') || this.isOperator('%')) {
      const operator = this.next().text as ArithmeticOperator;
      left = { kind: 'arithmetic', operator, left, right: this.postfix() };
    }
    return left;
  }

  /** `x [NOT] LIKE 'pattern'` and `x [NOT] IN (…)`, applied left to right. */
  private postfix(): Syntax {
    let operand = this.unary();
    for (;;) {
      let negated = false;
      if (this.keyword() === 'NOT') {
        const following = this.keyword(1);
        if (following !== 'LIKE' && following !== 'IN') return operand;
        this.next();
        negated = true;
      }
      const keyword = this.keyword();
      if (keyword === 'LIKE') {
        this.next();
        const pattern = this.peek();
        // §3.4.3: the pattern is a string literal, never an expression to cast.
        if (pattern.kind !== 'string') throw this.expected('a string literal (the LIKE pattern)');
        this.next();
        operand = { kind: 'like', operand, pattern: pattern.text, negated };
      } else if (keyword === 'IN') {
        this.next();
        operand = { kind: 'in', operand, set: this.nested(() => this.list('the IN set', false)), negated };
      } else {
        return operand;
      }
    }
  }

  private unary(): Syntax {
    const token = this.peek();
    if (this.keyword() === 'NOT') {
      this.next();
      return this.nested(() => ({ kind: 'not', operand: this.unary() }));
    }
    if (token.kind === 'operator' && (token.text === '-' || token.text === '+')) {
      const following = this.peek(1);
      // A sign directly before digits is part of the literal (§2.2): -2147483648 is in range, 2147483648 is not.
      if (following.kind === 'word' && following.at === token.end && digitsOnly.test(following.text)) {
        this.next();
        this.next();
        return { kind: 'literal', value: this.integer(following, token.text) };
      }
      if (token.text === '+') throw this.expected('digits after the sign');
      this.next();
      return this.nested(() => ({ kind: 'negate', operand: this.unary() }));
    }
    return this.primary();
  }

  private primary(): Syntax {
    const token = this.peek();
    if (token.kind === 'string') {
      this.next();
      return { kind: 'literal', value: token.text };
    }
    if (token.kind === '(') {
      return this.nested(() => {
        this.next();
        const inner = this.logic();
        this.expect(')', "')' to close the parenthesis");
        return inner;
      });
    }
    if (token.kind !== 'word') throw this.expected('an expression');
    const keyword = this.keyword();
    if (keyword === 'TRUE' || keyword === 'FALSE') {
      this.next();
      return { kind: 'literal', value: keyword === 'TRUE' };
    }
    if (keyword === 'EXISTS') {
      this.next();
      return { kind: 'exists', name: this.attributeName(this.next()) };
    }
    if (keyword !== undefined) throw this.expected('an expression');
    if (digitsOnly.test(token.text)) {
      this.next();
      return { kind: 'literal', value: this.integer(token, '') };
    }
    this.next();
    if (this.peek().kind === '(') {
      const name = token.text.toUpperCase();
      if (!functionName.test(name)) {
        throw new SyntaxFault(`'${token.text}' is not a function name: names of functions are letters and '_', starting with a letter.`, token.at);
      }
      return { kind: 'call', name, args: this.nested(() => this.list(`the arguments of ${name}`, true)) };
    }
    return { kind: 'attribute', name: this.attributeName(token) };
  }

  /** `(a, b, …)`: a function's arguments (possibly none) or an IN set (at least one). */
  private list(what: string, mayBeEmpty: boolean): Syntax[] {
    this.expect('(', `'(' to open ${what}`);
    const items: Syntax[] = [];
    if (mayBeEmpty && this.peek().kind === ')') {
      this.next();
      return items;
    }
    for (;;) {
      if (this.peek().kind === ')' || this.peek().kind === ',' || this.peek().kind === 'end') {
        throw this.expected(`an expression in ${what}`);
      }
      items.push(this.logic());
      if (this.peek().kind === ',') {
        this.next();
        continue;
      }
      this.expect(')', `',' or ')' to close ${what}`);
      return items;
    }
  }

  private integer(token: Token, sign: string): number {
    const value = Number(sign === '-' ? `-${token.text}` : token.text);
    if (value < int32.min || value > int32.max) {
      throw new SyntaxFault(
        `The integer ${sign === '-' ? '-' : ''}${token.text} is outside the 32-bit range ${int32.min} to ${int32.max}.`,
        token.at - sign.length,
      );
    }
    return value + 0;
  }

  /** Attribute names are case-insensitive here (`EXISTS SOURCE`): CloudEvents names are lower case. */
  private attributeName(token: Token): string {
    const name = token.text.toLowerCase();
    if (token.kind !== 'word' || keywords.has(token.text.toUpperCase())) {
      throw new SyntaxFault(`Expected an attribute name but found ${describe(token)}.`, token.at);
    }
    if (!attributeName.test(name)) {
      throw new SyntaxFault(`'${token.text}' is not an attribute name: names of attributes are letters and digits only.`, token.at);
    }
    return name;
  }

  /** Runs a rule one nesting level deeper, refusing expressions nested beyond the limit. */
  private nested<T>(rule: () => T): T {
    if (this.depth >= cesqlLimits.nestingDepth) {
      throw new SyntaxFault(
        `The expression nests deeper than ${cesqlLimits.nestingDepth} levels (parentheses, function calls, IN sets, NOT and '-' each count one).`,
        this.peek().at,
      );
    }
    this.depth += 1;
    try {
      return rule();
    } finally {
      this.depth -= 1;
    }
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.position + ahead, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (this.position < this.tokens.length - 1) this.position += 1;
    return token;
  }

  /** The keyword a word token spells, in upper case, or undefined. */
  private keyword(ahead = 0): string | undefined {
    const token = this.peek(ahead);
    if (token.kind !== 'word') return undefined;
    const upper = token.text.toUpperCase();
    return keywords.has(upper) ? upper : undefined;
  }

  private isOperator(text: string): boolean {
    const token = this.peek();
    return token.kind === 'operator' && token.text === text;
  }

  private expect(kind: Token['kind'], what: string): void {
    if (this.peek().kind !== kind) throw this.expected(what);
    this.next();
  }

  private expected(what: string): SyntaxFault {
    const token = this.peek();
    return new SyntaxFault(`Expected ${what} but found ${describe(token)}.`, token.at);
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the expression';
    case 'string':
      return `the string '${token.text.length > 30 ? `${token.text.slice(0, 30)}…` : token.text}'`;
    case 'word': {
      const upper = token.text.toUpperCase();
      if (keywords.has(upper)) return `the keyword ${upper}`;
      return digitsOnly.test(token.text) ? `the integer ${token.text}` : `the name '${token.text}'`;
    }
    default:
      return `'${token.text}'`;
  }
}
