// @ts-check
// `pnpm docs`: the API reference of every published package, from the TSDoc in the sources,
// into docs/api/. Warnings are errors: an export without documentation, a {@link} that goes
// nowhere, or a public signature naming a type the package does not export fails the run.
import { OptionDefaults } from 'typedoc';

/** @type {Partial<import('typedoc').TypeDocOptions> & { notExportedYet: string[] }} */
const config = {
  name: 'jobwatch',
  tsconfig: 'tsconfig.docs.json',
  entryPoints: [
    'packages/schema/src/index.ts',
    'packages/client/src/index.ts',
    'packages/rx/src/index.ts',
    'packages/simulator/src/index.ts',
    'apps/daemon/src/index.ts',
    'apps/widget/src/index.ts',
    'apps/widget/src/define.ts',
  ],
  // Each entry point's first comment names its module (`@module @jobwatch/rx`), as users
  // import it.
  // The widget's elements carry Custom Elements Manifest tags for editors and the
  // manifest analyzer; TypeDoc shows them as ordinary block tags.
  blockTags: [...OptionDefaults.blockTags, '@customElement', '@fires', '@csspart', '@cssprop'],
  excludePrivate: true,
  excludeInternal: true,
  // Members inherited from dependencies (LitElement's, HTMLElement's) are theirs to document.
  excludeExternals: true,
  // `pnpm typecheck` checks the types; this run only documents them.
  skipErrorChecking: true,
  out: 'docs/api',
  // Source links need a hosted remote; a clone (CI's included) may have none, and TypeDoc's
  // warning about it would fail the run. The reference links to declarations instead.
  disableSources: true,
  readme: 'none',
  treatWarningsAsErrors: true,
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  // Without this only the root package (private, no code) would have to be documented.
  packagesRequiringDocumentation: [
    '@jobwatch/schema',
    '@jobwatch/client',
    '@jobwatch/rx',
    '@jobwatch/simulator',
    '@jobwatch/daemon',
    '@jobwatch/widget',
  ],
  // Every export, and the methods and accessors of exported classes. Not every property of
  // every interface: many are the fields of a server's JSON, named by the schema they sit in.
  requiredToBeDocumented: [
    'Enum',
    'Variable',
    'Function',
    'Class',
    'Interface',
    'TypeAlias',
    'Method',
    'Accessor',
  ],
  // TypeDoc's own `notExported` check ignores types of packages other than the project's (all
  // of ours, here): scripts/typedoc-exports.mjs checks them. These public signatures name
  // types their packages do not export yet; each is documented where it is defined.
  plugin: ['./scripts/typedoc-exports.mjs'],
  notExportedYet: [
    'ConnectionFlags',
    'JobFilter',
    'LoggerOptions',
    'Output',
    'PruneOptions',
    'PruneResult',
    'RequestErrorOptions',
    'ServeFlags',
  ],
  // Types that come from dependencies link to their own documentation.
  externalSymbolLinkMappings: {
    rxjs: { '*': 'https://rxjs.dev/api' },
    '@lit/reactive-element': { '*': 'https://lit.dev/docs/api/ReactiveElement/' },
    lit: { '*': 'https://lit.dev/docs/api/' },
    'lit-element': { '*': 'https://lit.dev/docs/api/LitElement/' },
  },
};

export default config;
