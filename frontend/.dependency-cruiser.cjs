/**
 * `make lint`: the direction of imports in the frontend (dependency-cruiser). Features are
 * composed by the app (src/app/routes); they never import each other. Shared code lives below
 * them: src/components (pieces several features show) and src/lib (API client, tokens, session,
 * helpers), which import no feature and no app code.
 */
module.exports = {
  forbidden: [
    {
      name: "features-stand-alone",
      comment: "A feature imports no other feature: the app's routes compose them.",
      severity: "error",
      from: { path: "^src/features/([^/]+)/" },
      to: { path: "^src/features/", pathNot: "^src/features/$1/" },
    },
    {
      name: "features-below-the-app",
      comment: "Features do not reach up into the app (its router, routes and guards).",
      severity: "error",
      from: { path: "^src/features/" },
      to: { path: "^src/app/" },
    },
    {
      name: "components-below-features",
      comment: "Shared components know no feature and no app code.",
      severity: "error",
      from: { path: "^src/components/" },
      to: { path: "^src/(features|app)/" },
    },
    {
      name: "lib-at-the-bottom",
      comment: "lib/ (the API client, tokens, session, helpers) imports only lib/.",
      severity: "error",
      from: { path: "^src/lib/" },
      to: { path: "^src/(features|app|components)/" },
    },
    {
      name: "no-cycles",
      comment: "No module imports itself back through others.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "\\.d\\.ts$" },
  },
};
