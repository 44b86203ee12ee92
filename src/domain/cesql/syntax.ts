import type { CesqlValue } from './evaluation-context.js';

export type ArithmeticOperator = '+' | '-' | '*' | '/' | '%';
export type ComparisonOperator = '=' | '!=' | '<>' | '<' | '<=' | '>' | '>=';
export type LogicOperator = 'AND' | 'OR' | 'XOR';

/** The parsed expression, before compilation; attribute names are lower case, function names upper case. */
export type Syntax =
  | { readonly kind: 'literal'; readonly value: CesqlValue }
  | { readonly kind: 'attribute'; readonly name: string }
  | { readonly kind: 'exists'; readonly name: string }
  | { readonly kind: 'not'; readonly operand: Syntax }
  | { readonly kind: 'negate'; readonly operand: Syntax }
  | { readonly kind: 'arithmetic'; readonly operator: ArithmeticOperator; readonly left: Syntax; readonly right: Syntax }
  | { readonly kind: 'comparison'; readonly operator: ComparisonOperator; readonly left: Syntax; readonly right: Syntax }
  | { readonly kind: 'logic'; readonly operator: LogicOperator; readonly left: Syntax; readonly right: Syntax }
  | { readonly kind: 'like'; readonly operand: Syntax; readonly pattern: string; readonly negated: boolean }
  | { readonly kind: 'in'; readonly operand: Syntax; readonly set: readonly Syntax[]; readonly negated: boolean }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Syntax[] };
