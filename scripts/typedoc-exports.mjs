// @ts-check
// A TypeDoc plugin: TypeDoc's own `notExported` check skips every type whose package is not
// the project's, and with one project over several packages that is all of them. This puts
// it back for our packages: a public signature that names a type its package does not export
// (so users cannot name it either) is a warning, and so an error under treatWarningsAsErrors.
import { Application, makeRecursiveVisitor, ParameterType } from 'typedoc';

/** @param {Application} app */
export function load(app) {
  app.options.addDeclaration({
    name: 'notExportedYet',
    help: 'Types public signatures may name without their package exporting them (yet).',
    type: ParameterType.Array,
    defaultValue: [],
  });
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    if (!app.options.getValue('validation').notExported) return;
    const ours = new Set(app.options.getValue('packagesRequiringDocumentation'));
    const allowed = new Set(app.options.getValue('notExportedYet'));
    const used = new Set();
    const warned = new Set();
    for (const owner of Object.values(project.reflections)) {
      const visitor = makeRecursiveVisitor({
        reference(type) {
          if (type.reflection || type.externalUrl || !type.package || !ours.has(type.package))
            return;
          if (allowed.has(type.qualifiedName)) return void used.add(type.qualifiedName);
          const key = `${type.package}:${type.qualifiedName}`;
          if (warned.has(key)) return;
          warned.add(key);
          app.logger.warn(
            `${type.qualifiedName}, defined in ${type.package}, is named by ${owner.getFriendlyFullName()} but not exported: export it from the package's entry point`,
          );
        },
      });
      if ('type' in owner && owner.type) owner.type.visit(visitor);
      if ('default' in owner && owner.default) owner.default.visit(visitor);
    }
    for (const name of allowed) {
      if (!used.has(name))
        app.logger.warn(`notExportedYet names ${name}, which no signature needs any more: drop it`);
    }
  });
}
