import { compile, TreeInterpreter, type JSONValue } from '@jmespath-community/jmespath';

/** A JMESPath expression parsed once (at start), evaluated per message. */
export interface Expression {
  readonly source: string;
  evaluate(data: unknown): unknown;
}

export function compileExpression(source: string): Expression {
  const ast = compile(source);
  return { source, evaluate: (data) => TreeInterpreter.search(ast, data as JSONValue) };
}

/** Why an expression does not parse, or null. */
export function expressionError(source: string): string | null {
  try {
    compile(source);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
