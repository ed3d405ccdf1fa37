/**
 * Jinja templates with Python semantics, on top of nunjucks (a maintained Jinja2 port).
 *
 * lm-eval renders `doc_to_text`/`doc_to_target`/`doc_to_choice` with Jinja2
 * (`StrictUndefined`, `keep_trailing_newline=True`, no autoescape). Where nunjucks differs
 * from Jinja2 we rewrite the parsed template before compiling it:
 * - `{{ x }}` prints Python's `str(x)` (lists as `['a', 'b']`, True, None), so the
 *   `ast.literal_eval` that lm-eval applies to choice templates sees what Python printed;
 * - `obj.method(args)` calls Python's string/list/dict methods (`.strip()`, `.index()`...);
 * - `True`, `False` and `None` are literals; an undefined variable is an error.
 */
import nunjucks from 'nunjucks';
import { EvaluationError } from './errors.js';
import { pyStr } from './python-literal.js';
import { callPythonMethod } from './python-methods.js';

interface AstNode {
  typename: string;
  fields: string[];
  lineno: number;
  colno: number;
  children?: AstNode[];
  value?: unknown;
  [field: string]: unknown;
}
type NodeClass = new (lineno: number, colno: number, ...args: unknown[]) => AstNode;
interface NunjucksInternals {
  parser: { parse(src: string, extensions?: unknown, opts?: unknown): AstNode };
  compiler: { Compiler: new (name: string, throwOnUndefined: boolean) => NunjucksCompiler };
  nodes: Record<string, NodeClass>;
}
interface NunjucksCompiler {
  compile(node: AstNode): void;
  getCode(): string;
}

const internals = nunjucks as unknown as NunjucksInternals;
const N = internals.nodes;

/** A template failed to parse or render; the message names the template and the cause. */
export class TemplateError extends EvaluationError {
  override name = 'TemplateError';
  constructor(message: string) {
    super('TEMPLATE', message);
  }
}

const PY_STR = '__lrw_py_str';
const PY_CALL = '__lrw_py_call';

function pyOutput(value: unknown): string {
  if (value === undefined) {
    throw new TemplateError(
      'undefined value printed (StrictUndefined): the template names a field the document does not have',
    );
  }
  return pyStr(value);
}

function pyCall(self: unknown, name: string, ...args: unknown[]): unknown {
  if (self === undefined) {
    throw new TemplateError(`'.${name}()' called on an undefined value (missing document field?)`);
  }
  return callPythonMethod(self, name, args);
}

let sharedEnv: nunjucks.Environment | undefined;
function environment(): nunjucks.Environment {
  if (!sharedEnv) {
    sharedEnv = new nunjucks.Environment([], { autoescape: false, throwOnUndefined: false });
    sharedEnv.addGlobal(PY_STR, pyOutput);
    sharedEnv.addGlobal(PY_CALL, pyCall);
    sharedEnv.addFilter('regex_replace', (s: string, pattern: string, repl: string) =>
      // lm-eval registers this filter as re.sub; Python's \1 group references become $1.
      s.replace(new RegExp(pattern, 'g'), repl.replace(/\\(\d)/g, '$$$1')),
    );
  }
  return sharedEnv;
}

function symbol(node: AstNode, name: string): AstNode {
  return new N.Symbol(node.lineno, node.colno, name);
}

/** Rewrites the AST in place (see the module comment); returns the replacement for `node`. */
function rewrite(node: AstNode): AstNode {
  if (node.typename === 'Symbol' && ['True', 'False', 'None'].includes(node.value as string)) {
    const v = node.value === 'True' ? true : node.value === 'False' ? false : null;
    return new N.Literal(node.lineno, node.colno, v);
  }
  if (node.children) node.children = node.children.map(rewrite);
  for (const field of node.fields) {
    const child = node[field] as AstNode | undefined;
    if (child && typeof child === 'object' && 'typename' in child) node[field] = rewrite(child);
  }
  if (node.typename === 'FunCall') {
    const callee = node.name as AstNode;
    if (callee.typename === 'LookupVal' && (callee.val as AstNode).typename === 'Literal') {
      const args = node.args as AstNode;
      const method = new N.Literal(node.lineno, node.colno, (callee.val as AstNode).value);
      const list = new N.NodeList(node.lineno, node.colno, [
        callee.target as AstNode,
        method,
        ...(args.children ?? []),
      ]);
      return new N.FunCall(node.lineno, node.colno, symbol(node, PY_CALL), list);
    }
  }
  if (node.typename === 'Output') {
    node.children = (node.children ?? []).map((c) =>
      c.typename === 'TemplateData'
        ? c
        : new N.FunCall(
            c.lineno,
            c.colno,
            symbol(c, PY_STR),
            new N.NodeList(c.lineno, c.colno, [c]),
          ),
    );
  }
  return node;
}

/** A compiled template: render it with a document's fields as variables. */
export type CompiledTemplate = (doc: Record<string, unknown>) => string;

const cache = new Map<string, CompiledTemplate>();

/** Compiles a Jinja template with Python semantics (cached by source). */
export function compileTemplate(source: string): CompiledTemplate {
  const hit = cache.get(source);
  if (hit) return hit;
  let template: nunjucks.Template;
  try {
    const ast = rewrite(internals.parser.parse(source, [], { autoescape: false }));
    const compiler = new internals.compiler.Compiler('template', false);
    compiler.compile(ast);
    const props = new Function(compiler.getCode())();
    template = new nunjucks.Template({ type: 'code', obj: props } as never, environment());
  } catch (err) {
    const hint = /\[[^\]{}]*:[^\]{}]*\]/.test(source)
      ? ' (Python slices such as x[1:] are not supported: use a !function instead)'
      : '';
    throw new TemplateError(
      `cannot parse template ${JSON.stringify(source)}: ${(err as Error).message}${hint}`,
    );
  }
  const render: CompiledTemplate = (doc) => {
    try {
      return template.render(doc);
    } catch (err) {
      const fields = Object.keys(doc).join(', ');
      throw new TemplateError(
        `rendering ${JSON.stringify(source)} failed: ${(err as Error).message.replace(/^\(unknown path\)\s*/, '')} (document fields: ${fields})`,
      );
    }
  };
  cache.set(source, render);
  return render;
}

/** Renders `source` against `doc` (the `utils.apply_template` of lm-eval). */
export function applyTemplate(source: string, doc: Record<string, unknown>): string {
  return compileTemplate(source)(doc);
}
