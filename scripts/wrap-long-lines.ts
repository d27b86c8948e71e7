// Wraps what prettier cannot: a line over 120 characters that is long because of a string or a
// comment. Strings become concatenations of pieces (the same text: pieces are cut at spaces,
// never inside an escape); comments are rewrapped at spaces; a trailing comment moves above its
// line. Prettier then lays the result out. Lines with a URL stay as they are (eslint's max-len
// ignores them too).
//
// Usage: tsx scripts/wrap-long-lines.ts [files…]   (default: every .ts/.mjs/.js file git knows,
// minus what .prettierignore names). Prints the files it changed; exits 0.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as prettier from 'prettier';
import ts from 'typescript';

const MAX = 120;
const URL = /[^:/?#]:\/\/[^?#]/;

/** Files to wrap: the arguments, or every code file git tracks or sees that prettier does not ignore. */
async function targets(args: string[]): Promise<string[]> {
  if (args.length > 0) return args;
  const out = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.ts', '*.mjs', '*.js'], {
    encoding: 'utf8',
  });
  const files: string[] = [];
  for (const f of out.split('\n').filter(Boolean)) {
    const info = await prettier.getFileInfo(f, { ignorePath: '.prettierignore' });
    if (!info.ignored) files.push(f);
  }
  return files;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

const tooLong = (line: string): boolean => line.length > MAX && !URL.test(line);

/** Whether the string node sits where only a literal may stand (types, module names, keys). */
function literalOnly(node: ts.Node): boolean {
  const p = node.parent;
  if (!p) return true;
  if (ts.isLiteralTypeNode(p) || ts.isImportDeclaration(p) || ts.isExportDeclaration(p)) return true;
  if (ts.isExternalModuleReference(p) || ts.isImportTypeNode(p)) return true;
  if ((ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p)) && p.name === node) {
    return true;
  }
  if (ts.isPropertySignature(p) || ts.isEnumMember(p) || ts.isExpressionStatement(p)) return true;
  if (ts.isTaggedTemplateExpression(p)) return true;
  if (ts.isAsExpression(p) && ts.isConstTypeReference(p.type)) return true;
  if (ts.isElementAccessExpression(p) && p.argumentExpression === node) return true;
  return false;
}

/** Raw literal text cut after each space that is not escaped: the places a piece may end. */
function words(raw: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (let i = 1; i <= raw.length; i++) {
    if (raw[i - 1] !== ' ' || raw[i] === ' ') continue;
    let slashes = 0;
    for (let j = i - 2; j >= 0 && raw[j] === '\\'; j--) slashes++;
    if (slashes % 2 !== 0) continue;
    out.push(raw.slice(from, i));
    from = i;
  }
  if (from < raw.length) out.push(raw.slice(from));
  return out;
}

/** Tokens packed into pieces of at most `width` characters (a longer token stands alone). */
function pack(tokens: string[], width: number): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const t of tokens) {
    if (current && current.length + t.length > width) {
      pieces.push(current);
      current = t;
    } else current += t;
  }
  if (current) pieces.push(current);
  return pieces;
}

/** The template's content as tokens: words of its literal text and its `${…}` parts, as written. */
function templateTokens(node: ts.TemplateExpression, src: string): string[] {
  const tokens = words(src.slice(node.head.getStart() + 1, node.head.end - 2));
  for (const span of node.templateSpans) {
    tokens.push('${' + src.slice(span.expression.getFullStart(), span.expression.end) + '}');
    const lit = span.literal;
    const close = ts.isTemplateTail(lit) ? 1 : 2;
    tokens.push(...words(src.slice(lit.getStart() + 1, lit.end - close)));
  }
  return tokens;
}

/** Splits the longest string or template on each long line (one a pass: prettier may then fit the line). */
function stringEdits(sf: ts.SourceFile, src: string, longLines: Set<number>): Edit[] {
  const longest = new Map<number, ts.Node>();
  const visit = (node: ts.Node): void => {
    const isString = ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node);
    if ((isString || ts.isTemplateExpression(node)) && !literalOnly(node)) {
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const endLine = sf.getLineAndCharacterOfPosition(node.end).line;
      const width = node.end - node.getStart(sf);
      const best = longest.get(line);
      if (line === endLine && longLines.has(line) && width >= 30 && (!best || best.end - best.getStart(sf) < width)) {
        longest.set(line, node);
      }
      if (line === endLine) return;
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  const lines = src.split('\n');
  const edits: Edit[] = [];
  for (const [line, node] of longest) {
    const indent = /^\s*/.exec(lines[line] ?? '')?.[0].length ?? 0;
    const text = node.getText(sf);
    const q = text[0]!;
    const tokens = ts.isTemplateExpression(node) ? templateTokens(node, src) : words(text.slice(1, -1));
    let pieces = pack(tokens, Math.max(MAX - indent - 12, 30));
    // short enough for a line of its own, but prettier keeps a lone string argument in place
    if (pieces.length === 1) pieces = pack(tokens, Math.ceil(text.length / 2));
    if (pieces.length < 2) continue;
    edits.push({
      start: node.getStart(sf),
      end: node.end,
      text: '(' + pieces.map((p) => q + p + q).join(' +\n') + ')',
    });
  }
  return edits;
}

/** Every comment in the file once, by position. */
function comments(sf: ts.SourceFile, src: string): ts.CommentRange[] {
  const seen = new Map<number, ts.CommentRange>();
  const add = (ranges: ts.CommentRange[] | undefined): void => {
    for (const r of ranges ?? []) seen.set(r.pos, r);
  };
  const visit = (node: ts.Node): void => {
    add(ts.getLeadingCommentRanges(src, node.getFullStart()));
    add(ts.getTrailingCommentRanges(src, node.end));
    ts.forEachChild(node, visit);
  };
  visit(sf);
  add(ts.getLeadingCommentRanges(src, sf.endOfFileToken.getFullStart()));
  return [...seen.values()];
}

/** Rewraps long comment lines; moves a long line's trailing `// comment` above it. */
function commentEdits(sf: ts.SourceFile, src: string, longLines: Set<number>): Edit[] {
  const lines = src.split('\n');
  const lineStarts = sf.getLineStarts();
  const edits: Edit[] = [];
  const done = new Set<number>();
  for (const c of comments(sf, src)) {
    const line = sf.getLineAndCharacterOfPosition(c.pos).line;
    const lastLine = sf.getLineAndCharacterOfPosition(c.end).line;
    const text = lines[line] ?? '';
    const indent = /^\s*/.exec(text)?.[0] ?? '';
    if (c.kind === ts.SyntaxKind.SingleLineCommentTrivia) {
      if (!longLines.has(line) || done.has(line)) continue;
      done.add(line);
      const before = src.slice(lineStarts[line], c.pos);
      const body = src.slice(c.pos + 2, c.end).trim();
      if (before.trim() !== '') {
        // trailing comment: put it on its own line above the code
        edits.push({ start: lineStarts[line]!, end: lineStarts[line]!, text: `${indent}// ${body}\n` });
        edits.push({ start: c.pos - (before.length - before.trimEnd().length), end: c.end, text: '' });
        continue;
      }
      const next = lines[line + 1] ?? '';
      const m = /^(\s*)\/\/ (\S.*)$/.exec(next);
      const joinNext = m && m[1] === indent && !/^([-*•]|\d+[.)]) /.test(m[2]!);
      const words = joinNext ? `${body} ${m[2]}` : body;
      const wrapped = wrap(words, MAX - indent.length - 3).map((w) => `${indent}// ${w}`);
      const end = joinNext ? lineStarts[line + 1]! + next.length : c.end;
      edits.push({ start: lineStarts[line]!, end, text: wrapped.join('\n') });
      continue;
    }
    // block comment: rewrap each long ` * ` line; a one-line /** … */ becomes a block
    for (let l = line; l <= lastLine; l++) {
      if (!longLines.has(l) || done.has(l)) continue;
      done.add(l);
      const t = lines[l] ?? '';
      const one = /^(\s*)\/\*\*\s?(.*?)\s*\*\/\s*$/.exec(t);
      if (one && line === lastLine) {
        const body = wrap(one[2]!, MAX - one[1]!.length - 3).map((w) => `${one[1]} * ${w}`);
        edits.push({
          start: lineStarts[l]!,
          end: lineStarts[l]! + t.length,
          text: [`${one[1]}/**`, ...body, `${one[1]} */`].join('\n'),
        });
        continue;
      }
      const star = /^(\s*)\* (.*)$/.exec(t);
      if (!star) continue;
      const next = lines[l + 1] ?? '';
      const m = /^(\s*)\* (\S.*)$/.exec(next);
      const joinNext =
        m && l + 1 < lastLine && m[1] === star[1] && !/^([-*•@]|\d+[.)]) /.test(m[2]!) && !done.has(l + 1);
      const words = joinNext ? `${star[2]} ${m[2]}` : star[2]!;
      if (joinNext) done.add(l + 1);
      const wrapped = wrap(words, MAX - star[1]!.length - 2).map((w) => `${star[1]}* ${w}`);
      const end = joinNext ? lineStarts[l + 1]! + next.length : lineStarts[l]! + t.length;
      edits.push({ start: lineStarts[l]!, end, text: wrapped.join('\n') });
    }
  }
  return edits;
}

/** Words joined into lines of at most `width` characters (a longer word stands alone). */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of text.split(/ +/)) {
    if (current && current.length + 1 + word.length > width) {
      out.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) out.push(current);
  return out;
}

function apply(src: string, edits: Edit[]): string {
  let out = src;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

async function wrapFile(file: string): Promise<boolean> {
  const original = readFileSync(file, 'utf8');
  const options = (await prettier.resolveConfig(file)) ?? {};
  let src = original;
  for (let pass = 0; pass < 6; pass++) {
    const long = new Set<number>();
    src.split('\n').forEach((l, i) => tooLong(l) && long.add(i));
    if (long.size === 0) break;
    const sf = ts.createSourceFile(file, src, ts.ScriptTarget.Latest, true);
    // a comment's edits never overlap a string's (a trailing comment moves as a whole)
    const edits = [...commentEdits(sf, src, long), ...stringEdits(sf, src, long)];
    const next = await prettier.format(apply(src, edits), { ...options, filepath: file });
    if (next === src) break;
    src = next;
  }
  if (src === original) return false;
  writeFileSync(file, src);
  return true;
}

for (const file of await targets(process.argv.slice(2))) {
  if (await wrapFile(file)) console.log(file);
}
