/**
 * @actions/http-client means src/core/http-client-stand-in.js in the bundles and in these tests alike
 * (tsconfig.json "paths", jest.config.js moduleNameMapper): the stand-in hands out what loadHttpClient()
 * loaded. The package itself is imported in one place, by the loader.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import * as real from '@actions/http-client/lib/index';

type HttpClientModule = typeof import('@actions/http-client');

const ROOT = path.resolve(__dirname, '..', '..', '..');

function fresh(): { standIn: HttpClientModule; loader: typeof import('../../../src/core/http-client') } {
  let standIn: HttpClientModule | undefined;
  let loader: typeof import('../../../src/core/http-client') | undefined;
  jest.isolateModules(() => {
     
    standIn = require('@actions/http-client') as HttpClientModule;
    loader = require('../../../src/core/http-client') as typeof import('../../../src/core/http-client');
     
  });
  return { standIn: standIn!, loader: loader! };
}

describe('the @actions/http-client stand-in', () => {
  it('is what the package name means here, as in the bundles', () => {
     
    expect(require('@actions/http-client')).toBe(require('../../../src/core/http-client-stand-in.js'));
    expect(require('@actions/exec')).toBe(require('../../../src/core/exec-stand-in.js'));
     
  });

  it('says what is wrong when used before loadHttpClient()', () => {
    const { standIn } = fresh();
    expect(() => standIn.getProxyUrl('https://api.github.com')).toThrow(/used before loadHttpClient\(\) loaded it/);
  });

  it('is the package itself once loaded: functions, classes and the __esModule flag @actions/github reads', async () => {
    const { standIn, loader } = fresh();
    await loader.loadHttpClient();
    expect(standIn.getProxyUrl).toBe(real.getProxyUrl);
    expect(new standIn.HttpClient('test')).toBeInstanceOf(real.HttpClient);
    expect((standIn as unknown as { __esModule?: boolean }).__esModule).toBe(true);
    expect(Object.keys(standIn)).toEqual(expect.arrayContaining(['HttpClient', 'getProxyUrl']));
  });
});

describe('one module graph for the bundles, the tests and the type-check', () => {
  it('maps the same package names to the same stand-ins in tsconfig.json and jest.config.js', () => {
    const tsconfig = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile).config as { compilerOptions: { paths: Record<string, string[]> } };
     
    const jestConfig = require(path.join(ROOT, 'jest.config.js')) as { moduleNameMapper: Record<string, string> };
    const fromTsconfig = Object.fromEntries(
      Object.entries(tsconfig.compilerOptions.paths).map(([name, targets]) => [`^${name}$`, `<rootDir>/${path.posix.normalize(targets.find((t) => t.endsWith('.js'))!)}`]),
    );
    expect(jestConfig.moduleNameMapper).toEqual(fromTsconfig);
    expect(Object.keys(fromTsconfig).sort()).toEqual(['^@actions/exec$', '^@actions/http-client$']);
  });

  /** Every module a src file names: statically (top-level import/export), or by require(), import() or a type. */
  function specifiers(file: string): { name: string; static: boolean; typeOnly: boolean }[] {
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const found: { name: string; static: boolean; typeOnly: boolean }[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        found.push({ name: node.moduleSpecifier.text, static: true, typeOnly: Boolean(node.importClause?.isTypeOnly) });
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        found.push({ name: node.moduleSpecifier.text, static: true, typeOnly: node.isTypeOnly });
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        found.push({ name: node.argument.literal.text, static: false, typeOnly: true });
      } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0]!)) {
        const callee = node.expression;
        if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) {
          // A require() outside any function is evaluated with its module: as static as an import.
          let inFunction = false;
          for (let up: ts.Node | undefined = node.parent; up && !inFunction; up = up.parent) inFunction = ts.isFunctionLike(up);
          found.push({ name: (node.arguments[0] as ts.StringLiteral).text, static: callee.kind !== ts.SyntaxKind.ImportKeyword && !inFunction, typeOnly: false });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
  }

  function srcFiles(dir = path.join(ROOT, 'src')): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return srcFiles(p);
      return /\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
    });
  }

  it('imports @actions/http-client itself only in the loader, and no package by a node_modules path', () => {
    const LOADERS: Record<string, string> = {
      'src/core/http-client.ts': '@actions/http-client/lib/index',
      'src/core/exec-stand-in.js': '@actions/exec/lib/exec',
    };
    const wrong: string[] = [];
    for (const file of srcFiles()) {
      const rel = path.relative(ROOT, file).split(path.sep).join('/');
      for (const s of specifiers(file)) {
        if (s.name.includes('node_modules')) wrong.push(`${rel}: ${s.name} (a package by its folder)`);
        if (s.typeOnly || !/^@actions\/(http-client|exec)(\/|$)/.test(s.name)) continue;
        // The packages themselves (by a subpath): only their loaders, lazily.
        if (s.name.includes('/lib/') && !(LOADERS[rel] === s.name && !s.static)) wrong.push(`${rel}: ${s.name} (the package itself, outside its loader)`);
        // The package names (the stand-ins): never as an import every start evaluates.
        if (!s.name.includes('/lib/') && s.static) wrong.push(`${rel}: static import of ${s.name} (load it where it is needed: src/core/http-client.ts)`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('would see a static import, a top-level require and an import of the package outside the loader', () => {
    const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'md-imports-'));
    const file = path.join(dir, 'bad.ts');
    fs.writeFileSync(
      file,
      "import { HttpClient } from '@actions/http-client';\nconst exec = require('@actions/exec');\nexport async function f() { return import('@actions/http-client/lib/index'); }\nexport function g() { return require('@actions/http-client'); }\n",
    );
    expect(specifiers(file)).toEqual([
      { name: '@actions/http-client', static: true, typeOnly: false },
      { name: '@actions/exec', static: true, typeOnly: false },
      { name: '@actions/http-client/lib/index', static: false, typeOnly: false },
      { name: '@actions/http-client', static: false, typeOnly: false },
    ]);
  });
});
