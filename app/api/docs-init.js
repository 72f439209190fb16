// Starts Swagger UI on GET /docs (app/api/docs.py). A file, not an inline script: the page's
// Content-Security-Policy allows scripts from this origin only.
window.ui = SwaggerUIBundle({
  url: "/schema/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "BaseLayout",
});
